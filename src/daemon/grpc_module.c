/* grpc_module.c - finds and loads sessionbridge-grpc.so (grpc_module.h). */
#include "grpc_module.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MODULE_NAME "sessionbridge-grpc.so"

/* The entry points are the module's grpc_server.h functions: the types
 * must agree (typeof names them without linking them in). */
_Static_assert(__builtin_types_compatible_p(
                   typeof(&sb_grpc_start),
                   typeof(((struct sb_grpc_module *)0)->start)),
               "sb_grpc_start");
_Static_assert(__builtin_types_compatible_p(
                   typeof(&sb_grpc_drain_begin),
                   typeof(((struct sb_grpc_module *)0)->drain_begin)),
               "sb_grpc_drain_begin");
_Static_assert(__builtin_types_compatible_p(
                   typeof(&sb_grpc_stop),
                   typeof(((struct sb_grpc_module *)0)->stop)),
               "sb_grpc_stop");

/* dlopen()s path and resolves the entry points; on failure appends the
 * reason to why[]. */
static int load_from(const char *path, struct sb_grpc_module *m, char *why,
                     size_t size)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    size_t used = strlen(why);

    if (h == NULL) {
        snprintf(why + used, size - used, "%s%s", used ? "; " : "",
                 dlerror());
        return -1;
    }
    *(void **)&m->start = dlsym(h, "sb_grpc_start");
    *(void **)&m->drain_begin = dlsym(h, "sb_grpc_drain_begin");
    *(void **)&m->stop = dlsym(h, "sb_grpc_stop");
    if (m->start == NULL || m->drain_begin == NULL || m->stop == NULL) {
        snprintf(why + used, size - used, "%s%s: not a sessionbridge gRPC "
                 "module", used ? "; " : "", path);
        dlclose(h);
        return -1;
    }
    return 0;
}

int sb_grpc_module_load(struct sb_grpc_module *m, struct sb_err *err)
{
    char exe[PATH_MAX], path[PATH_MAX + sizeof(MODULE_NAME)];
    char why[1024] = "";
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

    if (n > 0) {
        char *slash;
        exe[n] = '\0';
        slash = strrchr(exe, '/');
        if (slash != NULL) {
            slash[1] = '\0';
            snprintf(path, sizeof(path), "%s%s", exe, MODULE_NAME);
            if (access(path, F_OK) == 0 &&
                load_from(path, m, why, sizeof(why)) == 0)
                return 0;
        }
    }
    if (load_from(SB_MODULE_DIR "/" MODULE_NAME, m, why, sizeof(why)) == 0)
        return 0;
    return sb_err_set(err, SB_ERR_CONFIG,
                      "[grpc] listen is set but the gRPC module cannot be "
                      "loaded: %s", why);
}
