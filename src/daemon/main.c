/* main.c - the sessionbridge daemon (placeholder until the server lands). */
#include <stdio.h>

int main(void)
{
    printf("sessionbridge %s\n", SB_VERSION);
    return 0;
}
