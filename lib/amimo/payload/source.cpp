#include <amimo/payload/source.h>

#include <amimo/core/error.h>
#include <amimo/core/rng.h>

#include <zmq.hpp>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <fstream>

namespace amimo::payload {
namespace {

class prbs_source final : public byte_source {
 public:
  prbs_source(std::uint64_t seed, int user) : gen_(derive_seed(seed, {0xDA7AULL, static_cast<std::uint64_t>(user)})) {}
  std::size_t read(std::span<std::uint8_t> out) override {
    for (auto& b : out) b = static_cast<std::uint8_t>(gen_.next_u64() >> 56U);
    return out.size();
  }
  bool ended() const noexcept override { return false; }
  bool finite() const noexcept override { return false; }

 private:
  rng gen_;
};

class file_source final : public byte_source {
 public:
  explicit file_source(const std::string& path) {
    // An input file that cannot be read is a file problem (io_error, exit status 3), as for
    // every other input file (README "Exit statuses").
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec))
      throw io_error("payload: '" + path + "' is not a readable regular file");
    in_.open(path, std::ios::binary);
    if (!in_) throw io_error("payload: cannot open '" + path + "'");
    remaining_ = std::filesystem::file_size(path, ec);
    if (ec) throw io_error("payload: cannot size '" + path + "'");
  }
  std::size_t read(std::span<std::uint8_t> out) override {
    const auto n = static_cast<std::size_t>(std::min<std::uintmax_t>(remaining_, out.size()));
    if (n == 0) return 0;
    in_.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(n));
    if (static_cast<std::size_t>(in_.gcount()) != n) throw io_error("payload file: short read");
    remaining_ -= n;
    return n;
  }
  bool ended() const noexcept override { return remaining_ == 0; }
  bool finite() const noexcept override { return true; }

 private:
  std::ifstream in_;
  std::uintmax_t remaining_ = 0;
};

class zmq_pull_source final : public byte_source {
 public:
  explicit zmq_pull_source(const std::string& endpoint) : socket_(context_, zmq::socket_type::pull) {
    // Bounded memory whatever the sender does: a message is at most 16 MiB and at most 16 wait
    // in the queue (the sender blocks behind its high-water mark), one more being drained.
    socket_.set(zmq::sockopt::maxmsgsize, std::int64_t{16} << 20);
    socket_.set(zmq::sockopt::rcvhwm, 16);
    socket_.set(zmq::sockopt::linger, 0);
    try {
      socket_.connect(endpoint);
    } catch (const zmq::error_t& e) {
      throw config_error("payload: cannot connect zmq-pull:" + endpoint + ": " + e.what());
    }
  }
  std::size_t read(std::span<std::uint8_t> out) override {
    std::size_t n = 0;
    while (n < out.size()) {
      if (pending_.empty()) {
        if (ended_) break;
        zmq::message_t msg;
        if (!socket_.recv(msg, zmq::recv_flags::dontwait)) break;
        if (msg.size() == 0) {
          ended_ = true;
          break;
        }
        const auto* p = static_cast<const std::uint8_t*>(msg.data());
        pending_.insert(pending_.end(), p, p + msg.size());
      }
      const std::size_t take = std::min(out.size() - n, pending_.size());
      std::copy_n(pending_.begin(), take, out.begin() + static_cast<std::ptrdiff_t>(n));
      pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(take));
      n += take;
    }
    return n;
  }
  bool ended() const noexcept override { return ended_ && pending_.empty(); }
  bool finite() const noexcept override { return true; }

 private:
  zmq::context_t context_{1};
  zmq::socket_t socket_;
  std::deque<std::uint8_t> pending_;
  bool ended_ = false;
};

}  // namespace

std::unique_ptr<byte_source> open_byte_source(const std::string& spec, std::uint64_t seed, int user) {
  if (spec.empty() || spec == "prbs") return std::make_unique<prbs_source>(seed, user);
  if (spec.rfind("zmq-pull:", 0) == 0) {
    const std::string endpoint = spec.substr(9);
    if (endpoint.empty()) throw config_error("payload: zmq-pull: needs an endpoint");
    return std::make_unique<zmq_pull_source>(endpoint);
  }
  return std::make_unique<file_source>(spec);
}

coded_transmitter::coded_transmitter(const ofdm::frame_layout& layout, const coding_config& coding, std::uint64_t seed)
    : frame_(layout), coded_(make_coded_layout(layout, coding)), seed_(seed), encoder_(coded_.tb) {
  const auto users = static_cast<std::size_t>(layout.users());
  if (coding.payloads.size() > 1 && coding.payloads.size() != users)
    throw config_error("payload: give one entry for all users or one per user (" + std::to_string(users) + ")");
  users_.resize(users);
  for (std::size_t k = 0; k < users; ++k) {
    const std::string spec = coding.payloads.empty() ? std::string() : coding.payloads[coding.payloads.size() == 1 ? 0 : k];
    users_[k].source = open_byte_source(spec, seed, static_cast<int>(k));
  }
  payload_.resize(coded_.capacity());
  tb_bytes_.resize(coded_.tb_bytes());
  tb_bits_.resize(static_cast<std::size_t>(coded_.tb.tb_bits));
  codeword_.resize(coded_.g_bits);
}

bool coded_transmitter::all_sent() const noexcept {
  return std::all_of(users_.begin(), users_.end(), [](const user_state& u) { return u.source->finite() && u.last_sent; });
}

void coded_transmitter::data_bits(std::span<bit> out, int user, std::uint64_t frame_index) {
  frame_.data_bits(out, seed_, user, frame_index);  // header bits and the scrambling sequence
  auto& u = users_[static_cast<std::size_t>(user)];
  block_header h;
  h.offset = u.offset;
  h.length = static_cast<std::uint32_t>(u.last_sent ? 0 : u.source->read(payload_));
  h.last = u.source->ended();
  pack_block(tb_bytes_, h, std::span<const std::uint8_t>(payload_).first(h.length));
  u.offset += h.length;
  if (h.last) u.last_sent = true;
  bytes_to_bits(tb_bits_, tb_bytes_);
  encoder_.encode(codeword_, tb_bits_);
  bit* data = out.data() + coded_.header_bits;
  for (std::size_t i = 0; i < coded_.g_bits; ++i) data[i] ^= codeword_[i];
}

}  // namespace amimo::payload
