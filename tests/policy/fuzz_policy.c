/* Fuzz target for the policy parser: any bytes go through the loader and,
 * when they load, through the seccomp compiler.  Built as a libFuzzer binary
 * with -DPYMCP_FUZZ=ON (clang), and always with fuzz_driver.c, which replays
 * the golden cases so the target stays compiled and exercised. */
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "policy.h"
#include "seccomp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sb_policy p;
	struct pm_error err;
	scmp_filter_ctx ctx;

	if (sb_policy_load_buffer((const char *)data, size, "fuzz.json", &p, &err) < 0)
		return 0;
	if (p.seccomp != NULL && sb_seccomp_build(p.seccomp_profile, p.file, &ctx, &err) >= 0)
		seccomp_release(ctx);
	sb_policy_free(&p);
	return 0;
}
