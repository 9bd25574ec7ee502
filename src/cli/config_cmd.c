/* config_cmd.c - `config check`: validate the configuration file. */
#include "cli.h"

int cli_cmd_config_check(struct cli_ctx *ctx, int argc, char **argv)
{
    const struct sb_config *cfg;

    if (argc > 0)
        return cli_error(CLI_USAGE, "config check takes no argument ('%s')",
                         argv[0]);
    cfg = cli_config(ctx);
    if (cfg == NULL)
        return CLI_FAILED;
    printf("%s: configuration OK (%zu profile%s)\n", ctx->config_path,
           cfg->profile_count, cfg->profile_count == 1 ? "" : "s");
    return CLI_OK;
}
