#include "job.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cleanup.h"
#include "wire.h"
#include "env.h"
#include "paths.h"
#include "seccomp_bpf.h"

/* A spec larger than this is refused: it is a command line, not data. */
#define SPEC_MAX SB_JOB_PACKED_MAX

char **sb_strv_dup(char *const *src, size_t n)
{
	size_t count = 0;
	char **v;

	while ((n == (size_t)-1 || count < n) && src && src[count])
		count++;
	v = calloc(count + 1, sizeof(*v));
	if (v == NULL)
		return NULL;
	for (size_t i = 0; i < count; i++) {
		v[i] = strdup(src[i]);
		if (v[i] == NULL) {
			sb_strv_free(v);
			return NULL;
		}
	}
	return v;
}

void sb_strv_free(char **v)
{
	if (v == NULL)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

void sb_job_free(struct sb_job *job)
{
	if (job->workspace_fd >= 0)
		close(job->workspace_fd);
	free(job->workspace);
	free(job->cwd);
	sb_strv_free(job->argv);
	sb_strv_free(job->env);
	sb_strv_free(job->protect);
	for (size_t i = 0; i < job->n_files; i++) {
		free(job->files[i].path);
		free(job->files[i].data);
	}
	free(job->files);
	free(job->workspace_target);
	for (size_t i = 0; i < job->n_binds; i++) {
		free(job->binds[i].source);
		free(job->binds[i].target);
	}
	free(job->binds);
	memset(job, 0, sizeof(*job));
	job->workspace_fd = -1;
}

static int spec_error(struct pm_error *err, const char *key, const char *what)
{
	pm_error_set(err, "spec", 0, "job spec: `%s` %s", key, what);
	return pm_error_hint(err,
			     "send {\"workspace\": DIR, \"argv\": [CMD, ...], \"cwd\": DIR, "
			     "\"env\": {\"K\": \"V\"}, \"timeout\": SECONDS, \"protect\": [DIR], "
			     "\"files\": {PATH: TEXT}, \"workspace_target\": DIR, \"binds\": "
			     "[{\"source\": DIR, \"target\": DIR}], \"loopback_ports\": "
			     "[PORT], \"workspace_fd\": true, \"scratch\": true}");
}

static int string_array(json_t *a, const char *key, char ***out, struct pm_error *err)
{
	size_t i;
	json_t *v;

	if (!json_is_array(a))
		return spec_error(err, key, "must be an array of strings");
	*out = calloc(json_array_size(a) + 1, sizeof(**out));
	if (*out == NULL)
		return pm_error_set(err, "spec", ENOMEM, "job spec");
	json_array_foreach (a, i, v) {
		if (!json_is_string(v))
			return spec_error(err, key, "must be an array of strings");
		(*out)[i] = strdup(json_string_value(v));
		if ((*out)[i] == NULL)
			return pm_error_set(err, "spec", ENOMEM, "job spec");
	}
	return 0;
}

static int env_object(json_t *o, char ***out, struct pm_error *err)
{
	const char *k;
	json_t *v;
	size_t i = 0;
	int r;

	if (!json_is_object(o))
		return spec_error(err, "env", "must be an object of strings");
	*out = calloc(json_object_size(o) + 1, sizeof(**out));
	if (*out == NULL)
		return pm_error_set(err, "spec", ENOMEM, "job spec");
	json_object_foreach (o, k, v) {
		if (!json_is_string(v))
			return spec_error(err, "env", "must be an object of strings");
		if (asprintf(&(*out)[i], "%s=%s", k, json_string_value(v)) < 0) {
			(*out)[i] = NULL;
			return pm_error_set(err, "spec", ENOMEM, "job spec");
		}
		if ((r = sb_env_check_assignment((*out)[i++], err)) < 0)
			return r;
	}
	return 0;
}

static int files_object(json_t *o, struct sb_job *job, struct pm_error *err)
{
	const char *k;
	json_t *v;

	if (!json_is_object(o))
		return spec_error(err, "files", "must be an object of path: content");
	job->files = calloc(json_object_size(o) + 1, sizeof(*job->files));
	if (job->files == NULL)
		return pm_error_set(err, "spec", ENOMEM, "job spec");
	json_object_foreach (o, k, v) {
		struct sb_job_file *f = &job->files[job->n_files];
		if (!json_is_string(v))
			return spec_error(err, "files", "must be an object of path: content");
		if (strncmp(k, "/tmp/", 5) != 0 || strstr(k, "/../") || strstr(k, "/./") ||
		    k[strlen(k) - 1] == '/')
			return spec_error(err, "files",
					  "paths must be files below /tmp, "
					  "without `.` or `..` components");
		f->len = json_string_length(v);
		f->path = strdup(k);
		f->data = malloc(f->len ? f->len : 1);
		if (f->path == NULL || f->data == NULL)
			return pm_error_set(err, "spec", ENOMEM, "job spec");
		memcpy(f->data, json_string_value(v), f->len);
		job->n_files++;
	}
	return 0;
}

static int binds_array(json_t *a, struct sb_job *job, struct pm_error *err)
{
	size_t i;
	json_t *v;

	if (!json_is_array(a) || json_array_size(a) > SB_JOB_BINDS_MAX)
		return spec_error(err, "binds",
				  "must be an array of at most 8 "
				  "{\"source\": DIR, \"target\": DIR}");
	job->binds = calloc(json_array_size(a) + 1, sizeof(*job->binds));
	if (job->binds == NULL)
		return pm_error_set(err, "spec", ENOMEM, "job spec");
	json_array_foreach (a, i, v) {
		const char *src = NULL, *dst = NULL;
		if (json_unpack(v, "{s:s, s:s !}", "source", &src, "target", &dst) < 0)
			return spec_error(err, "binds",
					  "entries must be {\"source\": DIR, "
					  "\"target\": DIR} and nothing else");
		if (src[0] != '/' || !pm_path_is_clean_absolute(dst))
			return spec_error(err, "binds",
					  "needs absolute paths; a target may "
					  "not be `/` nor hold `.`, `..` or `//`");
		struct sb_job_bind *b = &job->binds[job->n_binds++];
		b->source = strdup(src);
		b->target = strdup(dst);
		if (b->source == NULL || b->target == NULL)
			return pm_error_set(err, "spec", ENOMEM, "job spec");
	}
	return 0;
}

int sb_job_add_loopback_port(struct sb_job *job, long long port, struct pm_error *err)
{
	if (port < 1 || port > 65535)
		return pm_error_set(err, "spec", EINVAL,
				    "loopback port %lld is not a port number "
				    "(1 to 65535)",
				    port);
	for (size_t i = 0; i < job->n_loopback_ports; i++)
		if (job->loopback_ports[i] == port)
			return 0;
	if (job->n_loopback_ports == SB_LOOPBACK_PORTS_MAX)
		return pm_error_set(err, "spec", E2BIG, "more than %d loopback ports",
				    SB_LOOPBACK_PORTS_MAX);
	job->loopback_ports[job->n_loopback_ports++] = (int)port;
	return 0;
}

static int ports_array(json_t *a, struct sb_job *job, struct pm_error *err)
{
	size_t i;
	json_t *v;
	int r;

	if (!json_is_array(a))
		return spec_error(err, "loopback_ports", "must be an array of port numbers");
	json_array_foreach (a, i, v) {
		if (!json_is_integer(v))
			return spec_error(err, "loopback_ports",
					  "must be an array of port numbers");
		if ((r = sb_job_add_loopback_port(job, json_integer_value(v), err)) < 0)
			return r;
	}
	return 0;
}

static int parse_spec(json_t *o, struct sb_job *job, int fd, struct pm_error *err)
{
	bool wants_fd = false;
	const char *k;
	json_t *v;
	int r = 0;

	if (!json_is_object(o))
		return spec_error(err, "(top level)", "must be an object");
	json_object_foreach (o, k, v) {
		if (strcmp(k, WIRE_SPEC_WORKSPACE) == 0 || strcmp(k, WIRE_SPEC_CWD) == 0) {
			if (!json_is_string(v))
				return spec_error(err, k, "must be a string");
			char **dst = k[0] == 'w' ? &job->workspace : &job->cwd;
			*dst = strdup(json_string_value(v));
			if (*dst == NULL)
				return pm_error_set(err, "spec", ENOMEM, "job spec");
		} else if (strcmp(k, WIRE_SPEC_ARGV) == 0) {
			r = string_array(v, k, &job->argv, err);
		} else if (strcmp(k, WIRE_SPEC_PROTECT) == 0) {
			r = string_array(v, k, &job->protect, err);
		} else if (strcmp(k, WIRE_SPEC_ENV) == 0) {
			r = env_object(v, &job->env, err);
		} else if (strcmp(k, WIRE_SPEC_FILES) == 0) {
			r = files_object(v, job, err);
		} else if (strcmp(k, WIRE_SPEC_BINDS) == 0) {
			r = binds_array(v, job, err);
		} else if (strcmp(k, WIRE_SPEC_LOOPBACK_PORTS) == 0) {
			r = ports_array(v, job, err);
		} else if (strcmp(k, WIRE_SPEC_WORKSPACE_TARGET) == 0) {
			if (!json_is_string(v) || !pm_path_is_clean_absolute(json_string_value(v)))
				return spec_error(err, k,
						  "must be an absolute path other than `/`, "
						  "without `.`, `..` or `//`");
			if ((job->workspace_target = strdup(json_string_value(v))) == NULL)
				return pm_error_set(err, "spec", ENOMEM, "job spec");
		} else if (strcmp(k, WIRE_SPEC_WORKSPACE_FD) == 0 ||
			   strcmp(k, WIRE_SPEC_SCRATCH) == 0) {
			if (!json_is_true(v))
				return spec_error(err, k, "must be true when given");
			if (k[0] == 's')
				job->scratch = true;
			else
				wants_fd = true;
		} else if (strcmp(k, WIRE_SPEC_TIMEOUT) == 0) {
			if (!json_is_number(v) || !(json_number_value(v) >= 0) ||
			    json_number_value(v) > SB_TIMEOUT_MAX)
				return spec_error(err, k,
						  "must be a number of seconds from 0 to "
						  "10000000");
			job->timeout = json_number_value(v);
		} else {
			return spec_error(err, k, "is not a known key");
		}
		if (r < 0)
			return r;
	}
	if (job->argv == NULL || job->argv[0] == NULL)
		return spec_error(err, "argv", "must hold the command");
	if (job->scratch) {
		if (job->workspace != NULL || wants_fd)
			return spec_error(err, "scratch",
					  "excludes `workspace` and `workspace_fd`");
		return 0;
	}
	if (job->workspace == NULL)
		return spec_error(err, "workspace", "is required (or `scratch`)");
	/* Exactly one descriptor, and only when the spec says it is the
	 * workspace: anything else would be used by name, or leak. */
	if (wants_fd != (fd >= 0))
		return spec_error(err, "workspace_fd",
				  wants_fd ? "was set but no descriptor came "
					     "with the spec"
					   : "is missing, but a descriptor came "
					     "with the spec");
	return 0;
}

/* Reads what the socket holds until EOF; descriptors that come with the
 * bytes (SCM_RIGHTS) are kept in fds, at most max of them: more is an
 * error and every one of them is closed. */
static ssize_t read_with_fds(int sock, char *buf, size_t size, int *fds, size_t max, size_t *n_fds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = {.iov_base = buf, .iov_len = size};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf.buf,
			     .msg_controllen = sizeof(cbuf.buf)};
	ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	bool too_many = (msg.msg_flags & MSG_CTRUNC) != 0;

	if (n < 0 && errno == ENOTSOCK)
		return read(sock, buf, size); /* a pipe or a file: no descriptors */
	for (struct cmsghdr *c = n >= 0 ? CMSG_FIRSTHDR(&msg) : NULL; c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int got[4];
		memcpy(got, CMSG_DATA(c), k * sizeof(int));
		for (size_t i = 0; i < k; i++) {
			if (*n_fds < max)
				fds[(*n_fds)++] = got[i];
			else {
				close(got[i]);
				too_many = true;
			}
		}
	}
	if (too_many) {
		errno = EBADMSG;
		return -1;
	}
	return n;
}

int sb_job_read_spec(int fd, struct sb_job *job, struct pm_error *err)
{
	_cleanup_free_ char *buf = malloc(SPEC_MAX);
	_cleanup_json_ json_t *o = NULL;
	_cleanup_close_ int ws_fd = -1;
	json_error_t jerr;
	size_t len = 0, n_fds = 0;
	int r;

	memset(job, 0, sizeof(*job));
	job->workspace_fd = -1;
	if (buf == NULL)
		return pm_error_set(err, "spec", ENOMEM, "job spec");
	for (;;) {
		ssize_t n = read_with_fds(fd, buf + len, SPEC_MAX - len, &ws_fd, 1, &n_fds);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EBADMSG)
			return pm_error_set(err, "spec", EBADMSG,
					    "more than one descriptor came with "
					    "the job spec");
		if (n < 0)
			return pm_error_errno(err, "spec", "read the job spec");
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == SPEC_MAX)
			return pm_error_set(err, "spec", E2BIG, "job spec larger than %d bytes",
					    SPEC_MAX);
	}
	o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (o == NULL)
		return pm_error_set(err, "spec", 0, "job spec line %d: %s", jerr.line, jerr.text);
	r = parse_spec(o, job, ws_fd, err);
	if (r < 0) {
		sb_job_free(job);
		return r;
	}
	job->workspace_fd = TAKE_FD(ws_fd);
	return 0;
}

/* Layout: workspace\0 workspace_target\0 cwd\0
 * "argc envc nfiles nbinds bpf_len bpf_flags ws_tree binds_trees scratch dev ino"\0
 * argv... envp..., per file: path\0 "len"\0 and len raw bytes, per bind:
 * source\0 target\0, then bpf_len raw bytes. */
int sb_job_pack(const struct sb_job_layout *in, char **buf, size_t *len, struct pm_error *err)
{
	size_t argc = 0, envc = 0, size, bpf_len = in->bpf ? in->bpf->len : 0;
	char counts[256], *p;

	while (in->argv[argc])
		argc++;
	while (in->envp[envc])
		envc++;
	snprintf(counts, sizeof(counts), "%zu %zu %zu %zu %zu %u %d %d %d %llu %llu", argc, envc,
		 in->n_files, in->n_binds, bpf_len, in->bpf ? in->bpf->flags : 0, in->ws_tree_sent,
		 in->bind_trees_sent, in->scratch, in->ws_dev, in->ws_ino);
	size = strlen(in->workspace) + strlen(in->workspace_target) + strlen(in->cwd) +
	       strlen(counts) + 4;
	for (size_t i = 0; i < argc; i++)
		size += strlen(in->argv[i]) + 1;
	for (size_t i = 0; i < envc; i++)
		size += strlen(in->envp[i]) + 1;
	for (size_t i = 0; i < in->n_files; i++)
		size += strlen(in->files[i].path) + 1 + 21 + in->files[i].len;
	for (size_t i = 0; i < in->n_binds; i++)
		size += strlen(in->binds[i].source) + strlen(in->binds[i].target) + 2;
	size += bpf_len;
	if (size > SB_JOB_PACKED_MAX)
		return pm_error_set(err, "spec", E2BIG,
				    "the job is %zu bytes packed; at most %d "
				    "fit (arguments, environment and files together)",
				    size, SB_JOB_PACKED_MAX);
	p = *buf = malloc(size);
	if (p == NULL)
		return pm_error_set(err, "launch", ENOMEM, "pack the job");
	p = stpcpy(p, in->workspace) + 1;
	p = stpcpy(p, in->workspace_target) + 1;
	p = stpcpy(p, in->cwd) + 1;
	p = stpcpy(p, counts) + 1;
	for (size_t i = 0; i < argc; i++)
		p = stpcpy(p, in->argv[i]) + 1;
	for (size_t i = 0; i < envc; i++)
		p = stpcpy(p, in->envp[i]) + 1;
	for (size_t i = 0; i < in->n_files; i++) {
		p = stpcpy(p, in->files[i].path) + 1;
		p += sprintf(p, "%zu", in->files[i].len) + 1;
		memcpy(p, in->files[i].data, in->files[i].len);
		p += in->files[i].len;
	}
	for (size_t i = 0; i < in->n_binds; i++) {
		p = stpcpy(p, in->binds[i].source) + 1;
		p = stpcpy(p, in->binds[i].target) + 1;
	}
	if (bpf_len)
		memcpy(p, in->bpf->insns, bpf_len);
	p += bpf_len;
	*len = (size_t)(p - *buf);
	return 0;
}

static const char *next(char **p, const char *end)
{
	char *s = *p, *nul;

	if (s >= end || (nul = memchr(s, '\0', (size_t)(end - s))) == NULL)
		return NULL;
	*p = nul + 1;
	return s;
}

int sb_job_unpack(char *buf, size_t len, struct sb_packed_job *out)
{
	const char *end = buf + len, *counts;
	size_t argc, envc, nfiles, nbinds;
	int ws_sent, binds_sent, scratch;
	char *p = buf;

	memset(out, 0, sizeof(*out));
	out->buf = buf;
	if ((out->workspace = next(&p, end)) == NULL ||
	    (out->workspace_target = next(&p, end)) == NULL || (out->cwd = next(&p, end)) == NULL ||
	    (counts = next(&p, end)) == NULL ||
	    sscanf(counts, "%zu %zu %zu %zu %zu %u %d %d %d %llu %llu", &argc, &envc, &nfiles,
		   &nbinds, &out->bpf_len, &out->bpf_flags, &ws_sent, &binds_sent, &scratch,
		   &out->ws_dev, &out->ws_ino) != 11 ||
	    argc == 0 || argc > len || envc > len || nfiles > len || nbinds > SB_JOB_BINDS_MAX ||
	    out->bpf_len > len)
		return -EBADMSG;
	out->ws_tree_sent = ws_sent != 0;
	out->bind_trees_sent = binds_sent != 0;
	out->scratch = scratch != 0;
	out->argv = calloc(argc + 1, sizeof(char *));
	out->envp = calloc(envc + 1, sizeof(char *));
	if (out->argv == NULL || out->envp == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < argc; i++)
		if ((out->argv[i] = (char *)next(&p, end)) == NULL)
			return -EBADMSG;
	for (size_t i = 0; i < envc; i++)
		if ((out->envp[i] = (char *)next(&p, end)) == NULL)
			return -EBADMSG;
	out->files = calloc(nfiles + 1, sizeof(*out->files));
	if (out->files == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < nfiles; i++) {
		struct sb_job_file *f = &out->files[i];
		const char *n;
		if ((f->path = (char *)next(&p, end)) == NULL || (n = next(&p, end)) == NULL ||
		    sscanf(n, "%zu", &f->len) != 1 || f->len > (size_t)(end - p))
			return -EBADMSG;
		f->data = p;
		p += f->len;
		out->n_files++;
	}
	out->binds = calloc(nbinds + 1, sizeof(*out->binds));
	if (out->binds == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < nbinds; i++) {
		struct sb_job_bind *b = &out->binds[i];
		if ((b->source = (char *)next(&p, end)) == NULL ||
		    (b->target = (char *)next(&p, end)) == NULL)
			return -EBADMSG;
		out->n_binds++;
	}
	if ((size_t)(end - p) != out->bpf_len || out->bpf_len % 8 != 0)
		return -EBADMSG;
	if (out->bpf_len) {
		/* The blob sits at any offset; BPF instructions want alignment. */
		out->bpf = malloc(out->bpf_len);
		if (out->bpf == NULL)
			return -ENOMEM;
		memcpy(out->bpf, p, out->bpf_len);
	}
	return 0;
}

void sb_packed_job_free(struct sb_packed_job *pj)
{
	free(pj->argv);
	free(pj->envp);
	free(pj->files);
	free(pj->binds);
	free(pj->bpf);
	free(pj->buf);
	memset(pj, 0, sizeof(*pj));
}

/* The packed job travels on a stream socket as a 4-byte length and the
 * bytes; the mount trees, when there are any, ride on the first sendmsg
 * as SCM_RIGHTS. */
int sb_job_send(int sock, const char *buf, size_t len, const int *fds, size_t n_fds,
		struct pm_error *err)
{
	uint32_t n = (uint32_t)len;
	union {
		char buf[CMSG_SPACE(sizeof(int) * SB_JOB_FDS_MAX)];
		struct cmsghdr align;
	} cbuf = {0};
	struct iovec iov = {.iov_base = &n, .iov_len = sizeof(n)};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};

	if (n_fds > SB_JOB_FDS_MAX)
		return pm_error_set(err, "launch", E2BIG, "too many mount trees for one job");
	if (n_fds > 0) {
		struct cmsghdr *c;
		msg.msg_control = cbuf.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n_fds);
	}
	if (sendmsg(sock, &msg, MSG_NOSIGNAL) != (ssize_t)sizeof(n))
		return pm_error_errno(err, "launch", "send the job to the sandbox");
	while (len > 0) {
		ssize_t w = send(sock, buf, len, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return pm_error_errno(err, "launch", "send the job to the sandbox");
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

int sb_job_recv(int sock, char **buf, size_t *len, int *fds, size_t *n_fds)
{
	uint32_t n;
	union {
		char buf[CMSG_SPACE(sizeof(int) * SB_JOB_FDS_MAX)];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = {.iov_base = &n, .iov_len = sizeof(n)};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf.buf,
			     .msg_controllen = sizeof(cbuf.buf)};
	struct cmsghdr *c;
	size_t got = 0;

	*n_fds = 0;
	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != (ssize_t)sizeof(n))
		return -EPIPE;
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0))
			continue;
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (*n_fds + k > SB_JOB_FDS_MAX)
			return -EBADMSG;
		memcpy(fds + *n_fds, CMSG_DATA(c), k * sizeof(int));
		*n_fds += k;
	}
	if (msg.msg_flags & MSG_CTRUNC)
		return -EBADMSG;
	if (n > SB_JOB_PACKED_MAX)
		return -E2BIG;
	*buf = malloc(n);
	if (*buf == NULL)
		return -ENOMEM;
	while (got < n) {
		ssize_t r = read(sock, *buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			free(*buf);
			return -EPIPE;
		}
		got += (size_t)r;
	}
	*len = n;
	return 0;
}
