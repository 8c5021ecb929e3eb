#include <amimo/payload/decoder_sink.h>

#include <amimo/core/error.h>
#include <amimo/core/file_io.h>
#include <amimo/report/atomic_file.h>

#include <zmq.hpp>

#include <algorithm>
#include <map>

namespace amimo::payload {

void coded_user_stats::merge(const coded_user_stats& o) noexcept {
  blocks += o.blocks;
  block_errors += o.block_errors;
  malformed += o.malformed;
  code_blocks += o.code_blocks;
  iterations += o.iterations;
  payload_bytes += o.payload_bytes;
  uncoded_bits += o.uncoded_bits;
  uncoded_errors += o.uncoded_errors;
}

coded_user_stats coded_chain_stats::total() const noexcept {
  coded_user_stats t;
  for (const auto& u : users) t.merge(u);
  return t;
}

double bler(const coded_user_stats& s) noexcept {
  return s.blocks == 0 ? 0.0 : static_cast<double>(s.block_errors + s.malformed) / static_cast<double>(s.blocks);
}
double mean_iterations(const coded_user_stats& s) noexcept {
  return s.code_blocks == 0 ? 0.0 : static_cast<double>(s.iterations) / static_cast<double>(s.code_blocks);
}
double uncoded_ber(const coded_user_stats& s) noexcept {
  return s.uncoded_bits == 0 ? 0.0 : static_cast<double>(s.uncoded_errors) / static_cast<double>(s.uncoded_bits);
}

decoder_sink::decoder_sink(const ofdm::frame_layout& layout, const coding_config& coding,
                           std::vector<std::string> chain_labels)
    : coded_(make_coded_layout(layout, coding)), output_chain_(coding.payload_chain) {
  if (coding.kind != coding_kind::ldpc) throw config_error("decoder sink: coding is not ldpc");
  if (static_cast<std::size_t>(output_chain_) >= chain_labels.size())
    throw config_error("payload_chain " + std::to_string(output_chain_) + " is not one of the " +
                       std::to_string(chain_labels.size()) + " chains");
  const auto users = static_cast<std::size_t>(layout.users());
  fec::ldpc_decoder_config dc;
  dc.max_iterations = coding.ldpc_iterations;
  work_.resize(users);
  for (auto& w : work_) {
    w.decoder = std::make_unique<fec::transport_block_decoder>(coded_.tb, fec::ldpc_decoder_kind::layered_min_sum, dc);
    w.encoder = std::make_unique<fec::transport_block_encoder>(coded_.tb);
    w.llr.resize(coded_.g_bits);
    w.tb_bits.resize(static_cast<std::size_t>(coded_.tb.tb_bits));
    w.tb_bytes.resize(coded_.tb_bytes());
    w.codeword.resize(coded_.g_bits);
  }
  for (auto& label : chain_labels) {
    coded_chain_stats cs;
    cs.label = std::move(label);
    cs.users.resize(users);
    stats_.push_back(std::move(cs));
  }
}

void decoder_sink::consume(const pipeline::user_frame_view& v) {
  const auto k = static_cast<std::size_t>(v.user);
  auto& w = work_[k];
  auto& st = stats_[static_cast<std::size_t>(v.chain)].users[k];
  const std::size_t h = coded_.header_bits;
  const std::size_t g = coded_.g_bits;
  // The scrambling sequence is the frame's PRBS (the identifier's reference of every bit).
  const bit* prbs = v.scrambling.data() + h;
  const float* llr = v.llr.data() + h;
  for (std::size_t i = 0; i < g; ++i) w.llr[i] = prbs[i] != 0 ? -llr[i] : llr[i];
  const auto r = w.decoder->decode(w.tb_bits, w.llr);
  ++st.blocks;
  st.code_blocks += static_cast<std::uint64_t>(r.blocks);
  st.iterations += static_cast<std::uint64_t>(r.total_iterations);
  if (!r.tb_crc_ok) {
    ++st.block_errors;
    return;
  }
  bits_to_bytes(w.tb_bytes, w.tb_bits);
  const auto header = unpack_block(w.tb_bytes);
  if (!header) {
    ++st.malformed;
    return;
  }
  st.payload_bytes += header->length;
  // Uncoded BER of this (decoded) block: hard decisions against the re-encoded codeword.
  w.encoder->encode(w.codeword, w.tb_bits);
  const std::size_t bps = v.bits_per_symbol;
  for (std::size_t i = 0; i < g; ++i) {
    if (v.erased((h + i) / bps)) continue;
    ++st.uncoded_bits;
    st.uncoded_errors += static_cast<std::uint64_t>((w.llr[i] < 0.0F) != (w.codeword[i] != 0));
  }
  if (output_ != nullptr && v.chain == output_chain_) {
    output_->block(v.user, *header,
                   std::span<const std::uint8_t>(w.tb_bytes).subspan(kBlockHeaderBytes, header->length));
  }
}

void decoder_sink::end_frame(const pipeline::frame_info&) {}

namespace {

class directory_output final : public payload_output {
 public:
  directory_output(std::filesystem::path dir, int users, std::uint64_t max_bytes)
      : dir_(std::move(dir)), max_bytes_(max_bytes), users_(static_cast<std::size_t>(users)) {
    // Checked now, at amimo-bs's start-up, as its --out directory is: found only by finish(), an
    // unwritable directory (/sys/kernel) cost the whole run and bs.json. An io_error (exit
    // status 3), not a configuration error: the setting is valid, the file system refuses it.
    try {
      report::ensure_writable_directory(dir_);
    } catch (const io_error& e) {
      throw io_error(std::string("payload_out: ") + e.what());
    }
  }

  void block(int user, const block_header& h, std::span<const std::uint8_t> data) override {
    auto& u = users_[static_cast<std::size_t>(user)];
    // Checked before a last block sets the stream's end: finish() sizes the file to that end,
    // so an empty last block at offset 2^62 (any CRC-passing header can say so) would throw
    // std::bad_alloc, and one at 2e8 wrote 200 MB under a 1 MiB cap. Written so that no
    // offset + length can wrap.
    if (h.length > max_bytes_ || h.offset > max_bytes_ - h.length) {
      ++u.beyond_limit;
      return;
    }
    if (h.last) u.end = std::min(u.end, h.offset + h.length);
    if (data.empty()) return;
    const auto end = static_cast<std::size_t>(h.offset + h.length);
    if (u.data.size() < end) u.data.resize(end, 0);
    std::copy(data.begin(), data.end(), u.data.begin() + static_cast<std::ptrdiff_t>(h.offset));
    u.ranges[h.offset] = std::max(u.ranges[h.offset], h.offset + h.length);
  }

  std::vector<std::string> finish() override {
    std::vector<std::string> lines;
    for (std::size_t k = 0; k < users_.size(); ++k) {
      auto& u = users_[k];
      // Missing ranges of [0, end) (end: the last block's end, else what was received).
      // Never more than the cap, whatever block() let through.
      const std::uint64_t end =
          std::min(u.end != UINT64_MAX ? u.end : static_cast<std::uint64_t>(u.data.size()), max_bytes_);
      std::vector<std::pair<std::uint64_t, std::uint64_t>> missing;
      std::uint64_t covered = 0;
      for (const auto& [from, to] : u.ranges) {
        if (from > covered) missing.emplace_back(covered, std::min(from, end));
        covered = std::max(covered, to);
        if (covered >= end) break;
      }
      if (covered < end) missing.emplace_back(covered, end);
      const bool complete = u.end != UINT64_MAX && missing.empty() && u.beyond_limit == 0;
      const auto name = "user" + std::to_string(k);
      std::error_code ec;
      std::filesystem::remove(dir_ / (name + ".bin"), ec);
      std::filesystem::remove(dir_ / (name + ".partial.bin"), ec);
      std::filesystem::remove(dir_ / (name + ".missing.csv"), ec);
      u.data.resize(static_cast<std::size_t>(std::min<std::uint64_t>(end, u.data.size())));
      u.data.resize(static_cast<std::size_t>(end), 0);
      const std::string_view bytes(reinterpret_cast<const char*>(u.data.data()), u.data.size());
      if (complete) {
        write_file_atomically(dir_ / (name + ".bin"), bytes);
        lines.push_back(name + ".bin: complete, " + std::to_string(end) + " bytes");
        continue;
      }
      write_file_atomically(dir_ / (name + ".partial.bin"), bytes);
      std::string csv = "from_byte,to_byte\n";
      std::uint64_t lost = 0;
      for (const auto& [a, b] : missing) {
        csv += std::to_string(a) + "," + std::to_string(b) + "\n";
        lost += b - a;
      }
      write_file_atomically(dir_ / (name + ".missing.csv"), csv);
      lines.push_back(name + ".partial.bin: INCOMPLETE, " + std::to_string(end - lost) + " of " + std::to_string(end) +
                      " bytes received" + (u.end == UINT64_MAX ? " (end of stream not seen)" : "") +
                      (u.beyond_limit > 0 ? ", " + std::to_string(u.beyond_limit) + " blocks beyond the size limit" : "") +
                      "; missing ranges in " + name + ".missing.csv");
    }
    return lines;
  }

 private:
  struct user_store {
    std::vector<std::uint8_t> data;
    std::map<std::uint64_t, std::uint64_t> ranges;  // from → to, received
    std::uint64_t end = UINT64_MAX;
    std::uint64_t beyond_limit = 0;
  };
  std::filesystem::path dir_;
  std::uint64_t max_bytes_;
  std::vector<user_store> users_;
};

// zmq-push:ENDPOINT (binds): one message per good block: user (uint32 BE), stream offset
// (uint64 BE), flags (1 byte, bit 0 last), then the payload bytes.
class zmq_push_output final : public payload_output {
 public:
  explicit zmq_push_output(const std::string& endpoint) : socket_(context_, zmq::socket_type::push) {
    socket_.set(zmq::sockopt::linger, 2000);
    socket_.set(zmq::sockopt::sndhwm, 100000);
    try {
      socket_.bind(endpoint);
    } catch (const zmq::error_t& e) {
      throw config_error("payload_out: cannot bind zmq-push:" + endpoint + ": " + e.what());
    }
  }
  void block(int user, const block_header& h, std::span<const std::uint8_t> data) override {
    std::lock_guard lock(mutex_);
    zmq::message_t msg(13 + data.size());
    auto* p = static_cast<std::uint8_t*>(msg.data());
    for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(static_cast<std::uint32_t>(user) >> (24 - 8 * i));
    for (int i = 0; i < 8; ++i) p[4 + i] = static_cast<std::uint8_t>(h.offset >> (56 - 8 * i));
    p[12] = h.last ? 1U : 0U;
    std::copy(data.begin(), data.end(), p + 13);
    if (!socket_.send(msg, zmq::send_flags::dontwait)) ++dropped_;
  }
  std::vector<std::string> finish() override {
    return {"zmq-push: blocks pushed" + (dropped_ > 0 ? ", " + std::to_string(dropped_) + " dropped (no peer / queue full)" : std::string())};
  }

 private:
  zmq::context_t context_{1};
  zmq::socket_t socket_;
  std::mutex mutex_;
  std::uint64_t dropped_ = 0;
};

}  // namespace

std::unique_ptr<payload_output> open_payload_output(const std::string& spec, int users, std::uint64_t max_bytes) {
  if (spec.rfind("zmq-push:", 0) == 0) return std::make_unique<zmq_push_output>(spec.substr(9));
  return std::make_unique<directory_output>(spec, users, max_bytes);
}

}  // namespace amimo::payload
