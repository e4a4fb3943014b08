#pragma once
/* Reloadable (components/count): the count survives reloads. */
int count_next(void);
