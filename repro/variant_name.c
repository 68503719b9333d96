/*
 * The core a repro tool binary is linked with: "" for the correct core,
 * else the variant's name (sndtag_core_<name>).  One tiny object per
 * variant, so the tools themselves are compiled once.
 */
#ifndef REPRO_VARIANT
#define	REPRO_VARIANT	""
#endif

const char repro_variant[] = REPRO_VARIANT;
