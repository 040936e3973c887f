/* Signal state a child must not inherit from the launcher. */
#ifndef SB_SIGNALS_H
#define SB_SIGNALS_H

#include <signal.h>

/* Every disposition back to the default and nothing blocked: ignored
 * dispositions and the blocked mask survive exec, and a launcher started
 * under nohup (or blocking signals for its signalfd) must not hand them
 * to what it runs. */
static inline void sb_signals_reset(void)
{
	sigset_t none;

	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

#endif
