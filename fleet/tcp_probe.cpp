#include "fleet/tcp_probe.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace stenotype::fleet {

std::string tcp_probe(const std::string& host, std::uint16_t port, std::chrono::milliseconds limit) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (const int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found); rc != 0)
    return std::string("unknown host (") + ::gai_strerror(rc) + ")";
  std::string why = "no address";
  for (addrinfo* a = found; a; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      why = std::strerror(errno);
      continue;
    }
    int rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      rc = ::poll(&p, 1, static_cast<int>(limit.count()));
      if (rc == 0) {
        ::close(fd);
        why = "no answer within " + std::to_string(limit.count()) + " ms";
        continue;
      }
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      rc = err == 0 ? 0 : -1;
      errno = err;
    }
    const int saved = errno;
    ::close(fd);
    if (rc == 0) {
      ::freeaddrinfo(found);
      return "";
    }
    why = std::strerror(saved);
  }
  ::freeaddrinfo(found);
  for (auto& c : why)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return why;
}

} // namespace stenotype::fleet
