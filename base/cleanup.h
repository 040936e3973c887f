/* Scope-bound cleanup, after systemd and crun.  A variable declared with one
 * of these attributes is released when it leaves scope, unless ownership was
 * handed on with TAKE_PTR()/TAKE_FD(). */
#ifndef PM_CLEANUP_H
#define PM_CLEANUP_H

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void pm_freep(void *p)
{
	free(*(void **)p);
}

static inline void pm_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

static inline void pm_json_decrefp(json_t **j)
{
	json_decref(*j);
}

static inline void closedir_p(DIR **d)
{
	if (*d)
		closedir(*d);
}

static inline void pm_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

#define _cleanup_free_	 _cleanup_(pm_freep)
#define _cleanup_fclose_ _cleanup_(pm_fclosep)
#define _cleanup_close_	 _cleanup_(pm_closep)
#define _cleanup_json_	 _cleanup_(pm_json_decrefp)

#define TAKE_PTR(p)                                                                                \
	({                                                                                         \
		__typeof__(p) _taken = (p);                                                        \
		(p) = NULL;                                                                        \
		_taken;                                                                            \
	})

#define TAKE_FD(fd)                                                                                \
	({                                                                                         \
		int _taken = (fd);                                                                 \
		(fd) = -1;                                                                         \
		_taken;                                                                            \
	})

#endif
