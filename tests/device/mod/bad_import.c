/* Imports a function the firmware does not have: must be refused (422). */
extern long no_such_firmware_function(void);
long mod_value(void) { return no_such_firmware_function(); }
long mod_calls(void) { return 0; }
