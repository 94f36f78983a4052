#include "net/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace herald::net {

namespace ssl = boost::asio::ssl;

namespace {

// OpenSSL's last error, and the queue cleared.
unsigned long last_error() {
  unsigned long code = 0;
  unsigned long last = 0;
  while ((code = ERR_get_error()) != 0)
    last = code;
  return last;
}

std::string openssl_reason(unsigned long last = last_error()) {
  if (last == 0)
    return "unknown error";
  const char* reason = ERR_reason_error_string(last);
  return reason != nullptr ? reason : "error " + std::to_string(last);
}

// Empty when `path` can be opened for reading, else why not.
std::string readable(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr)
    return std::strerror(errno);
  std::fclose(f);
  return {};
}

// Encrypted keys are refused, not prompted for on the terminal.
int no_passphrase(char*, int, int, void*) {
  return 0;
}

} // namespace

std::string tls_version_name(const config::tls_settings& tls) {
  return tls.min_version == "1.3" ? "TLSv1.3" : "TLSv1.2";
}

std::variant<std::shared_ptr<ssl::context>, std::string>
make_tls_context(const config::tls_settings& tls) {
  const std::string cert_key = "config: listen.tls.cert_file: ";
  const std::string key_key = "config: listen.tls.key_file: ";
  if (auto why = readable(tls.cert_file); !why.empty())
    return cert_key + "cannot read " + tls.cert_file + ": " + why;
  if (auto why = readable(tls.key_file); !why.empty())
    return key_key + "cannot read " + tls.key_file + ": " + why;
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  auto* native = ctx->native_handle();
  ERR_clear_error();
  // No SSLv2/3, no TLS 1.0/1.1 (the minimum below), no compression, no
  // renegotiation by clients.
  SSL_CTX_set_options(
      native, SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3 | SSL_OP_NO_COMPRESSION
                  | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  int min = tls.min_version == "1.3" ? TLS1_3_VERSION : TLS1_2_VERSION;
  if (SSL_CTX_set_min_proto_version(native, min) != 1)
    return "config: listen.tls.min_version: " + tls.min_version
           + " is not supported by this OpenSSL: " + openssl_reason();
  SSL_CTX_set_default_passwd_cb(native, no_passphrase);
  if (SSL_CTX_use_certificate_chain_file(native, tls.cert_file.c_str()) != 1)
    return cert_key + tls.cert_file + " holds no PEM certificate ("
           + openssl_reason() + ")";
  auto mismatch = [&] {
    return key_key + "the key in " + tls.key_file
           + " does not match the certificate in " + tls.cert_file
           + " (listen.tls.cert_file)";
  };
  if (SSL_CTX_use_PrivateKey_file(native, tls.key_file.c_str(),
                                  SSL_FILETYPE_PEM)
      != 1) {
    // Loading checks the key against the certificate already.
    auto error = last_error();
    if (ERR_GET_REASON(error) == X509_R_KEY_VALUES_MISMATCH
        || ERR_GET_REASON(error) == X509_R_KEY_TYPE_MISMATCH)
      return mismatch();
    return key_key + tls.key_file + " holds no unencrypted PEM private key ("
           + openssl_reason(error) + ")";
  }
  if (SSL_CTX_check_private_key(native) != 1)
    return mismatch();
  ERR_clear_error();
  return ctx;
}

} // namespace herald::net
