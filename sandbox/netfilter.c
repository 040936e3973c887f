#include "netfilter.h"

#include <arpa/inet.h>
#include <errno.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

/* The ruleset, in nft's own syntax.  Refused packets are answered with
 * "administratively prohibited", so a connect() fails at once
 * (EHOSTUNREACH) instead of timing out. */
static char *ruleset(const struct sb_hostaddrs *host)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL)
		return NULL;
	fputs("table inet python_mcp {\n"
	      "  chain output {\n"
	      "    type filter hook output priority filter; policy accept;\n"
	      "    oifname \"lo\" accept\n"
	      "    meta nfproto ipv6 reject with icmpx admin-prohibited\n"
	      "    ip daddr { 0.0.0.0/8, 127.0.0.0/8, 169.254.0.0/16, 224.0.0.0/3",
	      f);
	for (size_t i = 0; i < host->n; i++) {
		char a[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &host->addr[i], a, sizeof(a));
		fprintf(f, ", %s", a);
	}
	fputs(" } reject with icmpx admin-prohibited\n  }\n}\n", f);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* nft's error text, on one line. */
static void one_line(char *dst, size_t size, const char *src)
{
	size_t n = 0;

	for (; src && *src && n + 1 < size; src++)
		dst[n++] = (*src == '\n' || *src == '\t') ? ' ' : *src;
	while (n > 0 && dst[n - 1] == ' ')
		n--;
	dst[n] = '\0';
}

int sb_netfilter_user_net(const struct sb_hostaddrs *host, struct pm_error *err)
{
	_cleanup_free_ char *rules = ruleset(host);
	struct nft_ctx *ctx;
	char why[512];
	int r;

	if (rules == NULL)
		return pm_error_set(err, "user_network", ENOMEM, "netfilter rules");
	ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (ctx == NULL)
		return pm_error_set(err, "user_network", ENOMEM, "nftables context");
	nft_ctx_buffer_output(ctx);
	nft_ctx_buffer_error(ctx);
	r = nft_run_cmd_from_buffer(ctx, rules);
	one_line(why, sizeof(why), nft_ctx_get_error_buffer(ctx));
	nft_ctx_free(ctx);
	if (r == 0)
		return 0;
	pm_error_set(err, "user_network", 0,
		     "install the netfilter rules that keep the sandbox "
		     "from the host: %s",
		     why[0] ? why : "nftables failed");
	return pm_error_hint(err, "the kernel needs nf_tables (CONFIG_NF_TABLES, module "
				  "nf_tables); without it the sandbox could reach the host "
				  "through the helper, so the run stops");
}
