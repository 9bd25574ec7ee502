/* test_config_env.c - environment overrides are checked like the file: a
 * format key set only in the environment is applied (and so checked), and
 * a SESSIONBRIDGE_* variable that names no key is an error. */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sessionbridge/config.h"
#include "unit_run.h"

static char ini[64], keys[64];

/* A config with a gorilla profile "go" and, when with_block, a jwt profile
 * "go_block" (whose variable prefix extends go's); key file mode 0600. */
static void write_config(bool with_block)
{
    FILE *f;

    strcpy(keys, "/tmp/sbenvkXXXXXX");
    f = fdopen(mkstemp(keys), "w");
    fputs("a-hash-key-of-some-length\n", f);
    fclose(f);
    strcpy(ini, "/tmp/sbenvXXXXXX");
    f = fdopen(mkstemp(ini), "w");
    fprintf(f, "[profile.go]\nformat = gorilla\ncookie_name = s\n"
               "hash_keys_file = %s\n", keys);
    if (with_block)
        fprintf(f, "[profile.go_block]\nformat = jwt\nalg = HS256\n"
                   "cookie_name = t\nsecrets_file = %s\n", keys);
    fclose(f);
}

/* Loads the config with NAME=value set; expects message (after "environment
 * NAME: " when prefixed) or success when message is NULL. */
static void load_with(const char *name, const char *value, const char *message)
{
    struct sb_config *cfg = NULL;
    struct sb_err err = {0};
    int rc;

    setenv(name, value, 1);
    rc = sb_config_load(ini, &cfg, &err);
    unsetenv(name);
    if (message == NULL) {
        ck_assert_msg(rc == 0, "%s", err.msg);
        sb_config_unref(cfg);
        return;
    }
    ck_assert_int_eq(rc, -1);
    ck_assert_int_eq(err.code, SB_ERR_CONFIG);
    ck_assert_str_eq(err.msg, message);
}

START_TEST(test_env_only_format_key_is_applied)
{
    char want[256];

    write_config(false);
    load_with("SESSIONBRIDGE_PROFILE_GO_COOKIE_HTTPONLY", "false", NULL);
    /* was "configuration OK": the variable was never read */
    snprintf(want, sizeof(want), "%s: [profile.go]: cannot read secrets "
             "file /nonexistent: No such file or directory", ini);
    load_with("SESSIONBRIDGE_PROFILE_GO_BLOCK_KEYS_FILE", "/nonexistent",
              want);
    load_with("SESSIONBRIDGE_PROFILE_GO_BOGUS", "1",
              "environment SESSIONBRIDGE_PROFILE_GO_BOGUS: [profile.go] "
              "bogus: unknown key 'bogus' for format gorilla");
    load_with("SESSIONBRIDGE_PROFILE_GO_COOKIE_SECURE", "maybe",
              "environment SESSIONBRIDGE_PROFILE_GO_COOKIE_SECURE: "
              "[profile.go] cookie_secure: 'maybe' is not true or false");
    unlink(ini);
    unlink(keys);
}
END_TEST

/* With profiles go and go_block, a variable belongs to the longest. */
START_TEST(test_longest_profile_prefix_owns_a_variable)
{
    write_config(true);
    load_with("SESSIONBRIDGE_PROFILE_GO_BLOCK_KEYS_FILE", "/nonexistent",
              "environment SESSIONBRIDGE_PROFILE_GO_BLOCK_KEYS_FILE: "
              "[profile.go_block] keys_file: unknown key 'keys_file' for "
              "format jwt");
    load_with("SESSIONBRIDGE_PROFILE_GO_BLOCK_ISSUER", "me", NULL);
    unlink(ini);
    unlink(keys);
}
END_TEST

START_TEST(test_unknown_variable_is_an_error)
{
    char want[256];

    write_config(false);
    snprintf(want, sizeof(want), "environment SESSIONBRIDGE_HTTP_LISTN: not "
             "a configuration key (no such key of a fixed section, nor a "
             "[profile.NAME] of %s)", ini);
    load_with("SESSIONBRIDGE_HTTP_LISTN", "127.0.0.1:1", want);
    snprintf(want, sizeof(want), "environment SESSIONBRIDGE_PROFILE_NOPE_SALT:"
             " not a configuration key (no such key of a fixed section, nor a "
             "[profile.NAME] of %s)", ini);
    load_with("SESSIONBRIDGE_PROFILE_NOPE_SALT", "x", want);
    load_with("SESSIONBRIDGE_HTTP_LISTEN", "127.0.0.1:1", NULL);
    load_with("SESSIONBRIDGE_REDIS_PREFIX", "x:", NULL);
    snprintf(want, sizeof(want), "environment SESSIONBRIDGE_OTHER: not a "
             "configuration key (no such key of a fixed section, nor a "
             "[profile.NAME] of %s)", ini);
    load_with("SESSIONBRIDGE_OTHER", "x", want);
    unlink(ini);
    unlink(keys);
}
END_TEST

static Suite *config_env_suite(void)
{
    Suite *s = suite_create("config_env");
    TCase *tc = tcase_create("env");

    tcase_add_test(tc, test_env_only_format_key_is_applied);
    tcase_add_test(tc, test_longest_profile_prefix_owns_a_variable);
    tcase_add_test(tc, test_unknown_variable_is_an_error);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(config_env_suite());
}
