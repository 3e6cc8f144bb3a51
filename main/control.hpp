// main/control.hpp -- the capture's status over CAF's network layer.
//
// `stenotype --control_port=N` publishes an actor with the capture's public
// interface (capture_actor) on a (loopback by default) port;
// `stenotype-ctl` connects to it and asks for status or a graceful stop.
// The published actor is a proxy: the port must be bound before the
// seccomp filter forbids creating sockets, which is before the capture
// exists.
#pragma once

#include <memory>
#include <mutex>

#include <caf/typed_event_based_actor.hpp>

#include "stenotype/protocol.hpp"

namespace stenotype {

/// Where the proxy forwards to; set once the pipeline runs.
class control_target_holder {
public:
  void set(capture_actor a) {
    std::lock_guard<std::mutex> g{m_};
    target_ = std::move(a);
  }
  capture_actor get() const {
    std::lock_guard<std::mutex> g{m_};
    return target_;
  }

private:
  mutable std::mutex m_;
  capture_actor target_;
};

/// An actor with the capture's interface that forwards every request.
capture_actor::behavior_type control_proxy(capture_actor::pointer self,
                                           std::shared_ptr<control_target_holder> target);

} // namespace stenotype
