/* hotd key: the HR2 signing key (docs/http.md). `new` makes the private
 * key (PEM, 0600 from its first byte); `public` writes what a firmware
 * holds, the 65-byte public point, as C or raw bytes. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "hotd.h"
#include "options.h"

enum { OUT, RAW, IF_MISSING };
static const struct hotd_opt opts[] = {
    {"output", 'o', "FILE", "where `public` writes (default: stdout)"},
    {"raw", 0, NULL, "`public` writes the 65 bytes 0x04 || X || Y instead of C"},
    {"if-missing", 0, NULL, "`new` keeps FILE when it already holds a P-256 key (the build)"},
    {NULL, 0, NULL, NULL},
};
static const struct hotd_cmd command = {
    "key",
    "usage: hotd key new FILE [--if-missing]\n"
    "       hotd key public FILE [-o OUT] [--raw]\n"
    "The ECDSA P-256 key that signs requests (HR2). `new` writes a private key in PEM\n"
    "(openssl reads it), readable by its owner only, and never overwrites one; the build\n"
    "makes BUILD/hotreload-sign.pem this way. `public` writes its public key for the\n"
    "firmware: C defining hotreload_auth_pubkey[65] and hotreload_build_auth() (which\n"
    "sets a server configuration's auth_pubkey), or --raw bytes.",
    opts, NULL, 2,
};

/* The public point as a C file the firmware compiles, with the function
 * its startup calls (hotreload.h), as the HMAC build's key file has. */
static int write_c(FILE *f, const uint8_t pub[65])
{
    fprintf(f, "/* The public key that verifies HR2 requests (hotd key public); not a "
               "secret. */\n#include \"hotreload.h\"\n\nextern const uint8_t "
               "hotreload_auth_pubkey[65];\nconst uint8_t hotreload_auth_pubkey[65] = {");
    for (int i = 0; i < 65; i++)
        fprintf(f, "%s0x%02x,", i % 12 ? " " : "\n    ", pub[i]);
    return fprintf(f, "\n};\n\nvoid hotreload_build_auth(hotreload_server_config_t *config)\n"
                      "{\n    config->auth_pubkey = hotreload_auth_pubkey;\n"
                      "    config->auth_key = NULL;\n    config->auth_key_len = 0;\n}\n") < 0
               ? -1 : 0;
}

static int public_key(const char *pem, const char *out, int raw)
{
    struct hotd_key key;
    char msg[512];
    memset(&key, 0, sizeof key);
    if (hotd_sign_key_load(pem, &key, msg, sizeof msg) != 0) {
        fprintf(stderr, "hotd key: %s\n", msg);
        return 1;
    }
    memset(key.priv, 0, sizeof key.priv); /* only the public half is needed */
    FILE *f = out ? fopen(out, raw ? "wb" : "w") : stdout;
    int bad = !f || (raw ? fwrite(key.pub, 1, 65, f) != 65 : write_c(f, key.pub) != 0);
    if (f && out)
        bad |= fclose(f) != 0;
    if (bad) {
        fprintf(stderr, "hotd key: %s: %s\n", out ? out : "stdout", strerror(errno));
        return 2;
    }
    return 0;
}

int cmd_key(int argc, char **argv)
{
    const char *out = NULL;
    int raw = 0, if_missing = 0;
    struct hotd_args a = {.cmd = &command};
    for (int o; (o = hotd_next_option(&a, argc, argv)) != HOTD_ARGS_END;) {
        if (o == OUT)
            out = a.value;
        else if (o == RAW)
            raw = 1;
        else if (o == IF_MISSING)
            if_missing = 1;
        else
            return hotd_args_exit(o);
    }
    if (a.noperands != 2 || (strcmp(a.operands[0], "new") && strcmp(a.operands[0], "public")))
        return hotd_usage_error(&command, "expected 'new FILE' or 'public FILE'");
    if (!strcmp(a.operands[0], "public"))
        return public_key(a.operands[1], out, raw);
    char msg[512];
    struct hotd_key key;
    if (if_missing && access(a.operands[1], F_OK) == 0) {
        int bad = hotd_sign_key_load(a.operands[1], &key, msg, sizeof msg);
        memset(&key, 0, sizeof key);
        if (bad)
            fprintf(stderr, "hotd key: %s\n", msg);
        return bad ? 1 : 0;
    }
    if (hotd_sign_key_new(a.operands[1], msg, sizeof msg) != 0) {
        fprintf(stderr, "hotd key: %s\n", msg);
        return 1;
    }
    printf("hotd key: made %s, the only key a firmware built with it accepts: keep it "
           "(lost, it means a reflash; docs/http.md, Keys)\n", a.operands[1]);
    return 0;
}
