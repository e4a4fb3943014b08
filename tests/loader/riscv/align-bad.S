/* .balign with relaxation on: gas pads worst-case and asks the linker to
 * delete the excess; here the padding does not land on the boundary. */
    .text
    .globl f
f:
    c.addi a0, 1
    c.addi a0, 1
    .balign 16
g:
    ret
