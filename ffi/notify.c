/* notify.c - sd_notify: one datagram to systemd's NOTIFY_SOCKET (filesystem path or '@' abstract). */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "internal.h"

SHIM_EXPORT int rtpe_sd_notify_to(const char *path, uint32_t path_len, const char *state,
		uint32_t state_len)
{
	struct sockaddr_un sun;
	socklen_t sun_len;
	int fd;
	ssize_t r;

	if (!path || path_len == 0)
		return 0;
	if (!state)
		return -EINVAL;
	/* "@" alone names nothing; the path must fit without relying on a terminating NUL */
	if (path_len < 2 && path[0] == '@')
		return -EINVAL;
	if (path_len >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, path_len);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';     /* abstract namespace: length, not NUL, ends the name */
	sun_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + path_len);
	if (path[0] != '@')
		sun_len++;                  /* include the NUL of a filesystem path */

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = sendto(fd, state, state_len, MSG_NOSIGNAL, (const struct sockaddr *)&sun, sun_len);
	if (r < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	close(fd);
	return 1;
}

SHIM_EXPORT int rtpe_sd_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	size_t plen, slen;

	if (!path || !*path)
		return 0;
	if (!state)
		return -EINVAL;
	plen = strlen(path);
	slen = strlen(state);
	if (plen > UINT32_MAX || slen > UINT32_MAX)
		return -EINVAL;
	return rtpe_sd_notify_to(path, (uint32_t)plen, state, (uint32_t)slen);
}
