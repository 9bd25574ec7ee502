/* test_secrets_file.c - the one key-line syntax every secrets file has:
 * raw lines, hex: and base64: binary keys, no comments, errors that name
 * file:line, and the file-mode rules. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sessionbridge/codec.h"
#include "sessionbridge/config.h"
#include "sessionbridge/profile.h"
#include "unit_run.h"

static char path[64];

/* Writes text (n bytes) to a fresh file with the given mode. */
static void write_secrets(const char *text, size_t n, mode_t mode)
{
    int fd;

    strcpy(path, "/tmp/sbsecXXXXXX");
    fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq((int)write(fd, text, n), (int)n);
    close(fd);
    ck_assert_int_eq(chmod(path, mode), 0);
}

/* Loads the file; expects a failure whose message is head + path + tail. */
static void expect_error(const char *text, mode_t mode, const char *head,
                         const char *tail)
{
    struct sb_secret_list list = {0};
    struct sb_err err = {0};
    char want[256];

    write_secrets(text, strlen(text), mode);
    ck_assert_int_eq(sb_secrets_load_file(path, &list, &err), -1);
    ck_assert_uint_eq(list.count, 0);
    snprintf(want, sizeof(want), "%s%s%s", head, path, tail);
    ck_assert_str_eq(err.msg, want);
    unlink(path);
}

/* RFC 7515 A.1's JWK "k" (base64url, no padding) and its first bytes. */
#define RFC7515_K "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKt" \
                  "MN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"

START_TEST(test_key_line_syntax)
{
    struct sb_secret_list list = {0};
    struct sb_err err = {0};
    static const unsigned char k_head[] = {0x03, 0x23, 0x35, 0x4b};

    write_secrets("plain text key\n\nhex:00ff10\r\nbase64:q83v\n"
                  "base64:" RFC7515_K "\nbase64:_w\n",
                  strlen("plain text key\n\nhex:00ff10\r\nbase64:q83v\n"
                         "base64:" RFC7515_K "\nbase64:_w\n"), 0600);
    ck_assert_int_eq(sb_secrets_load_file(path, &list, &err), 0);
    ck_assert_uint_eq(list.count, 5);
    ck_assert_uint_eq(list.items[0].len, 14);
    ck_assert_mem_eq(list.items[0].bytes, "plain text key", 14);
    ck_assert_uint_eq(list.items[1].len, 3);
    ck_assert_mem_eq(list.items[1].bytes, "\x00\xff\x10", 3);
    ck_assert_uint_eq(list.items[2].len, 3);
    ck_assert_mem_eq(list.items[2].bytes, "\xab\xcd\xef", 3);
    ck_assert_uint_eq(list.items[3].len, 64);
    ck_assert_mem_eq(list.items[3].bytes, k_head, sizeof(k_head));
    ck_assert_uint_eq(list.items[4].len, 1);
    ck_assert_mem_eq(list.items[4].bytes, "\xff", 1);
    sb_secrets_clear(&list);
    unlink(path);
}
END_TEST

/* A '#' line used to be skipped silently, so the next line signed. */
START_TEST(test_comment_line_is_an_error)
{
    expect_error("# rotated 2024-01\nnew-key\n", 0600,
                 "", ":1: a secrets file has no comments; a secret starting "
                 "with '#' must be written as hex: or base64:");
    expect_error("k1\n#k2\n", 0600,
                 "", ":2: a secrets file has no comments; a secret starting "
                 "with '#' must be written as hex: or base64:");
}
END_TEST

START_TEST(test_bad_encoded_lines)
{
    expect_error("hex:abc\n", 0600,
                 "", ":1: hex: value is empty or not valid hex (an even number "
                 "of digits)");
    expect_error("ok\nhex:zz\n", 0600,
                 "", ":2: hex: value is empty or not valid hex (an even number "
                 "of digits)");
    expect_error("base64:!!!!\n", 0600,
                 "", ":1: base64: value is empty or not valid base64");
    expect_error("base64:\n", 0600,
                 "", ":1: base64: value is empty or not valid base64");
    expect_error("\n\n", 0600, "secrets file ", " holds no secret");
}
END_TEST

START_TEST(test_nul_byte_is_an_error)
{
    struct sb_secret_list list = {0};
    struct sb_err err = {0};
    char want[128];

    write_secrets("ab\0cd\n", 6, 0600);
    ck_assert_int_eq(sb_secrets_load_file(path, &list, &err), -1);
    snprintf(want, sizeof(want), "%s:1: holds a NUL byte; write a binary "
             "secret as hex: or base64:", path);
    ck_assert_str_eq(err.msg, want);
    unlink(path);
}
END_TEST

START_TEST(test_file_modes)
{
    struct sb_secret_list list = {0};
    struct sb_err err = {0};
    char want[160];

    expect_error("k\n", 0620, "secrets file ", " is writable by group or "
                 "others (mode 0620): chmod go-w it");
    expect_error("k\n", 0602, "secrets file ", " is writable by group or "
                 "others (mode 0602): chmod go-w it");
    /* readable by others: loaded (a warning is logged) */
    write_secrets("k\n", 2, 0644);
    ck_assert_int_eq(sb_secrets_load_file(path, &list, &err), 0);
    ck_assert_uint_eq(list.count, 1);
    sb_secrets_clear(&list);
    unlink(path);
    write_secrets("k\n", 2, 0666);
    ck_assert_int_eq(sb_secrets_load_file(path, &list, &err), -1);
    snprintf(want, sizeof(want), "secrets file %s is writable by group or "
             "others (mode 0666): chmod go-w it", path);
    ck_assert_str_eq(err.msg, want);
    unlink(path);
}
END_TEST

/* RFC 7515 A.1: an HS256 JWS whose key is the binary JWK "k" above.  A
 * jwt secrets_file line "base64:k" must verify it (it used to be taken as
 * the literal text "base64:..."); the token expired in 2011, so now is
 * set before its exp. */
START_TEST(test_jwt_binary_hmac_key)
{
    static const char token[] =
        "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
        "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
        "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ."
        "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    struct sb_codec_ctx ctx = {.now = 1300819000};
    struct sb_config *cfg = NULL;
    struct sb_err err = {0};
    struct sb_session s;
    char ini[256], keys[64];
    FILE *f;

    write_secrets("base64:" RFC7515_K "\n", strlen(RFC7515_K) + 8, 0600);
    strcpy(keys, path);
    snprintf(ini, sizeof(ini), "[profile.j]\nformat = jwt\nalg = HS256\n"
             "cookie_name = t\nsecrets_file = %s\n", keys);
    strcpy(path, "/tmp/sbsecXXXXXX");
    f = fdopen(mkstemp(path), "w");
    fputs(ini, f);
    fclose(f);
    ck_assert_msg(sb_config_load(path, &cfg, &err) == 0, "%s", err.msg);
    sb_session_init(&s);
    ck_assert_msg(sb_credential_decode(sb_config_profile(cfg, "j"), token,
                                       strlen(token), &ctx, &s, &err) == 0,
                  "%s: %s", sb_err_code_name(err.code), err.msg);
    sb_session_reset(&s);
    sb_config_unref(cfg);
    unlink(path);
    unlink(keys);
}
END_TEST

static Suite *secrets_suite(void)
{
    Suite *s = suite_create("secrets_file");
    TCase *tc = tcase_create("load");

    tcase_add_test(tc, test_key_line_syntax);
    tcase_add_test(tc, test_comment_line_is_an_error);
    tcase_add_test(tc, test_bad_encoded_lines);
    tcase_add_test(tc, test_nul_byte_is_an_error);
    tcase_add_test(tc, test_file_modes);
    tcase_add_test(tc, test_jwt_binary_hmac_key);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(secrets_suite());
}
