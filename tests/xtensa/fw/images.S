/* The module images the firmware loads, as they would sit in flash: the
 * relocatable objects themselves (ld -r output), unchanged. */
    .macro image name, file
    .section .modimg, "a"
    .balign 4
    .global img_\name, img_\name\()_end
img_\name:
    .incbin "\file"
img_\name\()_end:
    .endm

    image calc_v1, "calc_v1.o"
    image bad_import, "bad_import.o"
    image short_call, "short_call.o"

/* No executable stack wanted (ld warns without this note). */
    .section .note.GNU-stack, "", @progbits
