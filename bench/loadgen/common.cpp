#include "common.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <fstream>
#include <sstream>
#include <unistd.h>

namespace loadgen {

namespace {

std::string b64url(const std::string& in) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  auto byte = [&](std::size_t k) {
    return static_cast<uint32_t>(static_cast<unsigned char>(in[k]));
  };
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    for (int s = 18; s >= 0; s -= 6)
      out += alphabet[(v >> s) & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t v = byte(i) << 16;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
  } else if (i + 2 == in.size()) {
    uint32_t v = byte(i) << 16 | byte(i + 1) << 8;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
  }
  return out;
}

} // namespace

std::string mint_token(const std::string& secret, const std::string& sub,
                       const std::string& customer) {
  auto now = static_cast<long long>(std::time(nullptr));
  std::string header = b64url(R"({"alg":"HS256","typ":"JWT"})");
  std::string claims =
      "{\"sub\":\"" + sub + "\",\"customer_id\":\"" + customer
      + "\",\"roles\":[\"admin\"],\"iat\":" + std::to_string(now)
      + ",\"exp\":" + std::to_string(now + 86400) + "}";
  std::string signing = header + "." + b64url(claims);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(signing.data()), signing.size(),
       mac, &mac_len);
  return signing + "."
         + b64url(std::string(reinterpret_cast<char*>(mac), mac_len));
}

proc_sample sample_process(int pid) {
  proc_sample out;
  if (pid <= 0)
    return out;
  std::string base = "/proc/" + std::to_string(pid);
  std::ifstream status(base + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0)
      out.rss_kb = std::stoll(line.substr(6));
  std::ifstream stat_file(base + "/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)),
                   std::istreambuf_iterator<char>());
  auto close = stat.rfind(')');
  if (close == std::string::npos)
    return out;
  // Fields after the command: state is field 3; utime, stime are 14, 15.
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14)
      utime = std::stoll(field);
    if (i == 15)
      stime = std::stoll(field);
  }
  out.cpu_s = static_cast<double>(utime + stime)
              / static_cast<double>(sysconf(_SC_CLK_TCK));
  out.ok = true;
  return out;
}

machine_sample sample_machine() {
  machine_sample out;
  std::ifstream stat("/proc/stat");
  std::string cpu;
  double v[8] = {};
  stat >> cpu;
  for (double& x : v)
    stat >> x;
  if (cpu != "cpu")
    return out;
  auto tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  out.busy_s = (v[0] + v[1] + v[2] + v[5] + v[6]) / tick;
  out.idle_s = (v[3] + v[4]) / tick;
  out.steal_s = v[7] / tick;
  return out;
}

long write_now(tcp::socket& sock, const char* data, std::size_t len) {
  boost::system::error_code ec;
  auto n = sock.write_some(asio::buffer(data, len), ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again)
    return 0;
  if (ec)
    return -1;
  return static_cast<long>(n);
}

} // namespace loadgen
