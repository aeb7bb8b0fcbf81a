/* A stand-alone `icelab check` for the shell tests, until (and besides)
 * cli/main.c dispatching the verb. */
#include "check_cmd.h"

int main(int argc, char **argv)
{
	return il_cmd_check(argc, argv);
}
