#include "actors/tls_files.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stenotype/error.hpp"

namespace stenotype {
namespace {

// Opens the file for reading (the only proof that we may read it: root
// passes access() for everything), through symlinks (stenokeys makes
// server_cert.pem a link to server_<host>_cert.pem).
std::string checked(const std::string& dir, const char* name) {
  const std::string path = dir + "/" + name;
  auto fail = [&](errc code, const std::string& why) {
    throw failure(code, "--cert_path=" + dir + ": cannot read " + name + ": " + why
                          + " (stenokeys makes these files)");
  };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0)
    fail(errc_from_errno(errno), std::strerror(errno));
  struct stat st;
  const bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  ::close(fd);
  if (!regular)
    fail(errc::bad_option, "not a regular file");
  return path;
}

void check_directory(const std::string& cert_path) {
  struct stat st;
  if (::stat(cert_path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw failure(errc::not_found, "--cert_path=" + cert_path + ": no such directory (stenokeys makes it)");
}

} // namespace

tls_files find_tls_files(const std::string& cert_path) {
  check_directory(cert_path);
  return {checked(cert_path, "ca_cert.pem"), checked(cert_path, "server_cert.pem"),
          checked(cert_path, "server_key.pem")};
}

client_tls_files find_client_tls_files(const std::string& cert_path) {
  check_directory(cert_path);
  return {checked(cert_path, "ca_cert.pem"), checked(cert_path, "client_cert.pem"),
          checked(cert_path, "client_key.pem")};
}

} // namespace stenotype
