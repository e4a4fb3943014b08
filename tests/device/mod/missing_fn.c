/* Does not export mod_calls, which the firmware calls: must be refused. */
long mod_value(void) { return 77; }
