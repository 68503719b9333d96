/*
 * Harness: the raw-bytes decoding of a scenario (the fuzz_raw baseline).
 *
 * The first byte picks one of a few fixed topologies; then each operation
 * is one opcode byte (low 5 bits and bit 7: the op, bits 5-6: the logical
 * thread)
 * followed by one to three argument bytes.  A short tail is dropped.
 * Every byte string decodes to a runnable Scenario, built in memory with
 * no heap, valid until the next raw_decode call.
 */
#ifndef _FUZZ_RAW_DECODE_H_
#define	_FUZZ_RAW_DECODE_H_

#include <stddef.h>
#include <stdint.h>

typedef struct Scenario Scenario;

#define	RAW_MAX_OPS	256
#define	RAW_NTOPOLOGIES	8

/* Not thread-safe: one static scenario. */
const Scenario *raw_decode(const uint8_t *data, size_t size);

#endif /* !_FUZZ_RAW_DECODE_H_ */
