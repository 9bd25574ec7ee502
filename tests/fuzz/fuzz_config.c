/* fuzz_config.c - libFuzzer target for the config loader: the input is an
 * INI file, loaded through sb_config_load from a memfd (the loader reads
 * paths, as the daemon does).  Every key of every section and format is
 * reachable; *_file keys name files that mostly do not exist, which must
 * be a clean error.  Nothing may crash, leak or trip a sanitizer, and a
 * failure must leave a message. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sessionbridge/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sb_config *cfg = NULL;
    struct sb_err err = {0};
    char path[64];
    int fd = memfd_create("fuzz_config", 0);

    if (fd < 0)
        abort();
    if (size > 0 && write(fd, data, size) != (ssize_t)size)
        abort();
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    if (sb_config_load(path, &cfg, &err) == 0) {
        if (cfg == NULL)
            abort();
        sb_config_unref(cfg);
    } else if (cfg != NULL || err.msg[0] == '\0') {
        abort();
    }
    close(fd);
    return 0;
}
