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
#include "main/numeric_flags.hpp"

namespace stenotype {
namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

// Digits, perhaps after a '-': meant as a number (one out of range, if negative).
bool looks_numeric(const std::string& s) {
  const std::size_t sign = !s.empty() && s[0] == '-' ? 1 : 0;
  return s.size() > sign && s.find_first_not_of("0123456789", sign) == std::string::npos;
}

// A numeric --uid/--gid. (Id)-1 is no id: setresuid(-1, ...) means "leave
// unchanged", so a drop to it would keep root.
template <class Id>
Id numeric_id(const char* flag, const std::string& text) {
  constexpr Id none = static_cast<Id>(-1);
  const auto id = parse_decimal<Id>(text);
  if (!id || *id == none)
    throw std::runtime_error(std::string(flag) + ": expected a name or " + number_rule<Id>(0, none - 1)
                             + ", got '" + shown(text) + "'");
  return *id;
}

struct user_entry {
  uid_t uid;
  gid_t gid; // the user's primary group; for a number unknown to the system, the same number
  std::string name;
};

user_entry find_user(const std::string& text) {
  if (looks_numeric(text)) {
    const uid_t uid = numeric_id<uid_t>("--uid", text);
    if (const passwd* pw = ::getpwuid(uid))
      return {uid, pw->pw_gid, pw->pw_name};
    return {uid, static_cast<gid_t>(uid), text};
  }
  if (const passwd* pw = ::getpwnam(text.c_str()))
    return {pw->pw_uid, pw->pw_gid, pw->pw_name};
  throw std::runtime_error("--uid: no user '" + shown(text) + "'");
}

gid_t find_group(const std::string& text) {
  if (looks_numeric(text))
    return numeric_id<gid_t>("--gid", text);
  if (const ::group* gr = ::getgrnam(text.c_str()))
    return gr->gr_gid;
  throw std::runtime_error("--gid: no group '" + shown(text) + "'");
}

} // namespace

std::optional<std::string> identity_problem(const std::string& uid, const std::string& gid) {
  try {
    if (!uid.empty())
      find_user(uid);
    if (!gid.empty())
      find_group(gid);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return std::nullopt;
}

identity resolve_identity(const std::string& uid, const std::string& gid) {
  identity who;
  const bool root = ::geteuid() == 0;
  if (!root) {
    // With file capabilities, as stenographer's package runs us (Security
    // Onion passes --uid=stenographer --gid=stenographer): naming who we are
    // already is fine; becoming anyone else needs root.
    const uid_t self = ::geteuid();
    if (!uid.empty() && find_user(uid).uid != self)
      throw std::runtime_error("--uid=" + shown(uid) + ": stenotype runs as uid " + std::to_string(self)
                               + " and, without root, cannot change its user; start it as root or drop --uid");
    if (!gid.empty() && find_group(gid) != ::getegid())
      throw std::runtime_error("--gid=" + shown(gid) + ": stenotype runs as gid " + std::to_string(::getegid())
                               + " and, without root, cannot change its group; start it as root or drop --gid");
    return who;
  }
  who.change = true;
  const user_entry user = find_user(uid.empty() ? "nobody" : uid);
  who.uid = user.uid;
  who.gid = user.gid;
  who.name = user.name;
  const std::string group = gid.empty() && uid.empty() ? "nogroup" : gid;
  if (!group.empty())
    who.gid = find_group(group);
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
