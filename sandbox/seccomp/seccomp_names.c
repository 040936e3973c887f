#include "seccomp_names.h"

#include <stdio.h>
#include <string.h>

static const struct sb_scmp_action actions[] = {
    {"SCMP_ACT_KILL", SCMP_ACT_KILL_THREAD, false, true},
    {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, false, true},
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, false, true},
    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP, false, true},
    {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), true, true},
    {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), true, true},
    {"SCMP_ACT_LOG", SCMP_ACT_LOG, false, true},
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, false, true},
    /* Known so that the error can say why it is refused: a user-space
     * listener decides after a time-of-check/time-of-use race (seccomp
     * _unotify(2)), and the launcher runs none (THREATS.md §3). */
    {"SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY, false, false},
};

static const struct {
	const char *name;
	enum scmp_compare op;
} ops[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE},
    {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE},
    {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

static const struct {
	const char *name;
	enum sb_scmp_flag flag;
} flags[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", SB_SCMP_FLAG_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", SB_SCMP_FLAG_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SB_SCMP_FLAG_SPEC_ALLOW},
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SB_SCMP_FLAG_WAIT_KILLABLE_RECV},
};

/* Architectures newer than libseccomp 2.5 stay known by name (Docker's own
 * profile lists them in archMap) with token 0: they are never native here,
 * so a filter never needs them. */
#ifndef SCMP_ARCH_LOONGARCH64
#define SCMP_ARCH_LOONGARCH64 0
#endif
#ifndef SCMP_ARCH_M68K
#define SCMP_ARCH_M68K 0
#endif
#ifndef SCMP_ARCH_SH
#define SCMP_ARCH_SH 0
#endif
#ifndef SCMP_ARCH_SHEB
#define SCMP_ARCH_SHEB 0
#endif

static const struct sb_scmp_arch arches[] = {
    {"SCMP_ARCH_X86", SCMP_ARCH_X86, "x86", "x86", {NULL, NULL}},
    {"SCMP_ARCH_X86_64", SCMP_ARCH_X86_64, "amd64", "x86_64", {"SCMP_ARCH_X86", "SCMP_ARCH_X32"}},
    {"SCMP_ARCH_X32", SCMP_ARCH_X32, "x32", "x32", {NULL, NULL}},
    {"SCMP_ARCH_ARM", SCMP_ARCH_ARM, "arm", "arm", {NULL, NULL}},
    {"SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64, "arm64", "aarch64", {"SCMP_ARCH_ARM", NULL}},
    {"SCMP_ARCH_MIPS", SCMP_ARCH_MIPS, "mips", "mips", {NULL, NULL}},
    {"SCMP_ARCH_MIPS64",
     SCMP_ARCH_MIPS64,
     "mips64",
     "mips64",
     {"SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64N32"}},
    {"SCMP_ARCH_MIPS64N32",
     SCMP_ARCH_MIPS64N32,
     "mips64n32",
     "mips64n32",
     {"SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64"}},
    {"SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL, "mipsel", "mipsel", {NULL, NULL}},
    {"SCMP_ARCH_MIPSEL64",
     SCMP_ARCH_MIPSEL64,
     "mipsel64",
     "mipsel64",
     {"SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64N32"}},
    {"SCMP_ARCH_MIPSEL64N32",
     SCMP_ARCH_MIPSEL64N32,
     "mipsel64n32",
     "mipsel64n32",
     {"SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64"}},
    {"SCMP_ARCH_PPC", SCMP_ARCH_PPC, "ppc", "ppc", {NULL, NULL}},
    {"SCMP_ARCH_PPC64", SCMP_ARCH_PPC64, "ppc64", "ppc64", {"SCMP_ARCH_PPC", NULL}},
    {"SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE, "ppc64le", "ppc64le", {NULL, NULL}},
    {"SCMP_ARCH_S390", SCMP_ARCH_S390, "s390", "s390", {NULL, NULL}},
    {"SCMP_ARCH_S390X", SCMP_ARCH_S390X, "s390x", "s390x", {"SCMP_ARCH_S390", NULL}},
    {"SCMP_ARCH_PARISC", SCMP_ARCH_PARISC, "parisc", "parisc", {NULL, NULL}},
    {"SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64, "parisc64", "parisc64", {"SCMP_ARCH_PARISC", NULL}},
    {"SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64, "riscv64", "riscv64", {NULL, NULL}},
    {"SCMP_ARCH_LOONGARCH64", SCMP_ARCH_LOONGARCH64, "loong64", "loongarch64", {NULL, NULL}},
    {"SCMP_ARCH_M68K", SCMP_ARCH_M68K, "m68k", "m68k", {NULL, NULL}},
    {"SCMP_ARCH_SH", SCMP_ARCH_SH, "sh", "sh", {NULL, NULL}},
    {"SCMP_ARCH_SHEB", SCMP_ARCH_SHEB, "sheb", "sheb", {NULL, NULL}},
};

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

const struct sb_scmp_action *sb_scmp_action_lookup(const char *name)
{
	for (size_t i = 0; i < N_ELEMENTS(actions); i++) {
		if (strcmp(actions[i].name, name) == 0)
			return &actions[i];
	}
	return NULL;
}

bool sb_scmp_op_lookup(const char *name, enum scmp_compare *op)
{
	for (size_t i = 0; i < N_ELEMENTS(ops); i++) {
		if (strcmp(ops[i].name, name) == 0) {
			*op = ops[i].op;
			return true;
		}
	}
	return false;
}

const struct sb_scmp_arch *sb_scmp_arch_lookup(const char *name)
{
	for (size_t i = 0; i < N_ELEMENTS(arches); i++) {
		if (strcmp(arches[i].name, name) == 0)
			return &arches[i];
	}
	return NULL;
}

const struct sb_scmp_arch *sb_scmp_arch_by_token(uint32_t token)
{
	for (size_t i = 0; token != 0 && i < N_ELEMENTS(arches); i++) {
		if (arches[i].token == token)
			return &arches[i];
	}
	return NULL;
}

bool sb_scmp_flag_lookup(const char *name, enum sb_scmp_flag *flag)
{
	for (size_t i = 0; i < N_ELEMENTS(flags); i++) {
		if (strcmp(flags[i].name, name) == 0) {
			*flag = flags[i].flag;
			return true;
		}
	}
	return false;
}

bool sb_scmp_arch_is_sub(const struct sb_scmp_arch *native, const char *sub)
{
	for (size_t i = 0; i < N_ELEMENTS(native->subs); i++) {
		if (native->subs[i] != NULL && strcmp(native->subs[i], sub) == 0)
			return true;
	}
	return false;
}

static void join(char *buf, size_t size, size_t count, const char *(*name_at)(size_t))
{
	size_t used = 0;

	if (size == 0)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < count && used < size; i++) {
		int n = snprintf(buf + used, size - used, "%s%s", i > 0 ? ", " : "", name_at(i));

		if (n < 0)
			return;
		used += (size_t)n;
	}
}

static const char *action_at(size_t i)
{
	return actions[i].name;
}

static const char *op_at(size_t i)
{
	return ops[i].name;
}

static const char *flag_at(size_t i)
{
	return flags[i].name;
}

void sb_scmp_list_actions(char *buf, size_t size)
{
	/* The last entry, NOTIFY, is known but refused: leave it out. */
	join(buf, size, N_ELEMENTS(actions) - 1, action_at);
}

void sb_scmp_list_ops(char *buf, size_t size)
{
	join(buf, size, N_ELEMENTS(ops), op_at);
}

void sb_scmp_list_flags(char *buf, size_t size)
{
	join(buf, size, N_ELEMENTS(flags), flag_at);
}
