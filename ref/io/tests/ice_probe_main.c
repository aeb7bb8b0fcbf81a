/* A stand-alone `icelab probe ice` for the interop scripts, built by
 * mk/ice_interop.mk, so they run before (or without) the verb's wiring in
 * the icelab binary: `ice_probe [options]` is `icelab probe ice [options]`. */
#include "icelab/probe_ice.h"

int main(int argc, char **argv)
{
	return il_probe_ice_main(argc, argv);
}
