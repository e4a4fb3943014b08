/* calc v2 after `hotd bind --absolute` against the first link of this
 * firmware: its imports are absolute symbols at the firmware's addresses.
 * fw.ld places it last, so adding it moves nothing it points to. */
    .section .modimg.bound, "a"
    .balign 4
    .incbin "calc_v2.bound.o"

/* No executable stack wanted (ld warns without this note). */
    .section .note.GNU-stack, "", @progbits
