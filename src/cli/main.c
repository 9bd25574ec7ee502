/* main.c - sessionbridgectl (placeholder until the CLI lands). */
#include <stdio.h>

int main(void)
{
    printf("sessionbridgectl %s\n", SB_VERSION);
    return 0;
}
