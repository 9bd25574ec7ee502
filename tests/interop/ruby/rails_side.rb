# rails_side.rb - the Rails side of tests/interop/test_go_rails.sh: makes
# and reads encrypted session cookies exactly as Rails' encrypted cookie
# jar does for the cookie store (ActionDispatch::Cookies 6.1 over the real
# ActiveSupport 6.1 KeyGenerator and MessageEncryptor, Debian's
# ruby-activesupport): PBKDF2 key from secret_key_base with the
# "authenticated encrypted cookie" salt and 1000 iterations (SHA-1, or
# SHA-256 as Rails 7.0 derives it), AES-256-GCM, the JSON cookies
# serializer, purpose "cookie.<name>".
#
#   ruby rails_side.rb mint SECRET NAME SESSION_JSON [--expires-at UNIX]
#        [--purpose P | --no-purpose] [--digest sha256] [--marshal]
#   ruby rails_side.rb read NAME TOKEN SECRET [OLD_SECRET...] [--digest D]
#        [--purpose P]
#
# read prints the session JSON, "nil" when Rails would see no cookie
# (purpose or expiry), or "invalid" (InvalidMessage: tag, key, layout).
require "json"
require "openssl"
require "active_support"
require "active_support/json"
require "active_support/key_generator"
require "active_support/message_encryptor"

SALT = "authenticated encrypted cookie"

def option(args, name, default = nil)
  i = args.index(name)
  return default unless i
  v = args[i + 1]
  args.slice!(i, 2)
  v
end

def flag(args, name)
  !args.delete(name).nil?
end

# The cookie jar's key: Rails 6.1's KeyGenerator (PBKDF2-HMAC-SHA1).
# ActiveSupport 6.1 has no digest option; for the Rails 7.0 default
# (key_generator_hash_digest_class SHA256) this does what 7.0's
# KeyGenerator#generate_key does: OpenSSL::PKCS5.pbkdf2_hmac with SHA256.
def key_for(secret, digest)
  len = ActiveSupport::MessageEncryptor.key_len("aes-256-gcm")
  if digest == "sha256"
    return OpenSSL::PKCS5.pbkdf2_hmac(secret, SALT, 1000, len, OpenSSL::Digest::SHA256.new)
  end
  ActiveSupport::KeyGenerator.new(secret, iterations: 1000).generate_key(SALT, len)
end

def encryptor(key, marshal = false)
  opts = { cipher: "aes-256-gcm" }
  opts[:serializer] = ActiveSupport::MessageEncryptor::NullSerializer unless marshal
  ActiveSupport::MessageEncryptor.new(key, **opts)
end

cmd = ARGV.shift
args = ARGV.dup
digest = option(args, "--digest", "sha1")
case cmd
when "mint"
  expires = option(args, "--expires-at")
  purpose = option(args, "--purpose")
  no_purpose = flag(args, "--no-purpose")
  marshal = flag(args, "--marshal")
  secret, name, session = args
  purpose ||= "cookie.#{name}"
  value = JSON.parse(session)
  meta = {}
  meta[:purpose] = purpose unless no_purpose
  meta[:expires_at] = Time.at(expires.to_i).utc if expires
  enc = encryptor(key_for(secret, digest), marshal)
  # the JSON cookies serializer dumps with ActiveSupport::JSON.encode
  payload = marshal ? value : ActiveSupport::JSON.encode(value)
  puts enc.encrypt_and_sign(payload, **meta)
when "read"
  purpose = option(args, "--purpose")
  name, token, *secrets = args
  purpose ||= "cookie.#{name}"
  enc = encryptor(key_for(secrets.first, digest))
  secrets.drop(1).each { |s| enc.rotate(key_for(s, digest), cipher: "aes-256-gcm",
                                        serializer: ActiveSupport::MessageEncryptor::NullSerializer) }
  begin
    json = enc.decrypt_and_verify(token, purpose: purpose)
    puts json.nil? ? "nil" : JSON.generate(ActiveSupport::JSON.decode(json))
  rescue ActiveSupport::MessageEncryptor::InvalidMessage
    puts "invalid"
  end
else
  abort "usage: rails_side.rb mint|read ..."
end
