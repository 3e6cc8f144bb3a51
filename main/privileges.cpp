#include "main/privileges.hpp"

#include <cerrno>
#include <cstring>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdexcept>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "io/layout.hpp"

namespace stenotype {
namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

bool all_digits(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

} // namespace

identity resolve_identity(const std::string& uid, const std::string& gid) {
  identity who;
  const bool root = ::geteuid() == 0;
  if (!root) {
    if (!uid.empty() || !gid.empty())
      throw std::runtime_error("--uid/--gid need stenotype to be started as root");
    return who;
  }
  who.change = true;
  const std::string user = uid.empty() ? "nobody" : uid;
  const passwd* pw = all_digits(user) ? ::getpwuid(static_cast<uid_t>(std::stoul(user)))
                                      : ::getpwnam(user.c_str());
  if (pw) {
    who.uid = pw->pw_uid;
    who.gid = pw->pw_gid;
    who.name = pw->pw_name;
  } else if (all_digits(user)) {
    who.uid = static_cast<uid_t>(std::stoul(user));
    who.gid = static_cast<gid_t>(who.uid);
    who.name = user;
  } else {
    throw std::runtime_error("--uid: no user '" + user + "'");
  }
  const std::string group = gid.empty() && uid.empty() ? "nogroup" : gid;
  if (!group.empty()) {
    const ::group* gr = all_digits(group) ? ::getgrgid(static_cast<gid_t>(std::stoul(group)))
                                          : ::getgrnam(group.c_str());
    if (gr)
      who.gid = gr->gr_gid;
    else if (all_digits(group))
      who.gid = static_cast<gid_t>(std::stoul(group));
    else
      throw std::runtime_error("--gid: no group '" + group + "'");
  }
  if (who.uid == 0)
    who.change = ::getegid() != who.gid; // --uid=root: only a group change, if any
  return who;
}

std::vector<std::string> missing_directories(const std::string& path) {
  std::vector<std::string> out;
  std::string p = path;
  while (p.size() > 1 && p.back() == '/')
    p.pop_back();
  struct stat st;
  while (!p.empty() && ::stat(p.c_str(), &st) != 0) {
    out.insert(out.begin(), p);
    const auto slash = p.rfind('/');
    if (slash == std::string::npos || slash == 0)
      break;
    p.resize(slash);
  }
  return out;
}

void hand_over_directories(const capture_options& opts, const identity& who,
                           const std::vector<std::string>& created) {
  if (!who.change)
    return;
  auto give = [&](const std::string& path) {
    if (::chown(path.c_str(), who.uid, who.gid) != 0)
      fail("cannot give " + path + " to " + who.name);
  };
  for (const auto& d : created)
    give(d);
  if (created.empty()) {
    // The user must be able to pass through an existing DIR.
    struct stat st;
    if (::stat(opts.dir.c_str(), &st) != 0)
      fail("cannot stat " + opts.dir);
    const bool through = (st.st_uid == who.uid && (st.st_mode & S_IXUSR))
                         || (st.st_gid == who.gid && (st.st_mode & S_IXGRP)) || (st.st_mode & S_IXOTH);
    if (!through)
      throw std::runtime_error(opts.dir + " is not accessible to user " + who.name
                               + " (after dropping privileges); chown it or give --uid/--gid");
  }
  for (int i = 0; i < opts.threads; ++i) {
    give(io::packet_dir(opts.dir, i));
    give(io::index_dir(opts.dir, i));
  }
}

void drop_privileges(const identity& who) {
  if (who.change) {
    if (::setgroups(0, nullptr) != 0)
      fail("cannot clear supplementary groups");
    if (::setresgid(who.gid, who.gid, who.gid) != 0)
      fail("cannot change group to " + std::to_string(who.gid));
    if (::setresuid(who.uid, who.uid, who.uid) != 0)
      fail("cannot change user to " + who.name);
  } else {
    // Not root: drop capabilities a setcap'd binary was given.
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    if (::syscall(SYS_capset, &hdr, data) != 0)
      fail("cannot drop capabilities");
  }
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    fail("cannot set no_new_privs");
  if (who.change && who.uid != 0 && (::setuid(0) == 0 || ::seteuid(0) == 0))
    throw std::runtime_error("privileges could be regained after dropping them");
}

} // namespace stenotype
