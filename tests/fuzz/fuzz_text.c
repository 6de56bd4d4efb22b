/* fuzz_text.c - libFuzzer entry for the text target (stems, lexicon,
 * clauses, acts, language); the body is fuzz_text_input() in targets.h,
 * shared with tests/unit/test_fuzz_regress.c. Built and run by tests/fuzz/fuzz.sh. */
#include <stddef.h>
#include <stdint.h>

#include "targets.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	jansson_use_xmalloc();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_text_input(data, size);
	return 0;
}
