#pragma once
/* Reloadable (components/greet): edit greet.c, push, see the new text. */
const char *greet_text(void);
