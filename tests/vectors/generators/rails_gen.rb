# Rails 6.1 encrypted cookie-store session vectors, made and checked by a minimal in-process
# Rails app (Debian ruby-railties and ruby-actionpack 6.1.7.10). Usage: ruby rails_gen.rb  (prints JSON)
# Internally re-runs itself as `ruby rails_gen.rb app <expire_after|none>` because a Rails
# application can be initialised only once per process.
require "json"
require "open3"

SECRET = "s3cr3t-test-key"
T0 = 1793491200
VERIFY_NOW = T0 + 1800

if ARGV[0] != "app"
  vectors = []
  %w[none 3600].each do |mode|
    out, err, st = Open3.capture3(RbConfig.ruby, __FILE__, "app", mode)
    raise err unless st.success?
    vectors.concat(JSON.parse(out))
  end
  puts JSON.pretty_generate(vectors)
  exit
end

require "logger"
require "rails"
require "action_controller/railtie"
require "active_support/testing/time_helpers"
include ActiveSupport::Testing::TimeHelpers

EXPIRE = ARGV[1] == "none" ? nil : ARGV[1].to_i

class App < Rails::Application
  config.load_defaults 6.1
  config.secret_key_base = SECRET
  config.eager_load = false
  config.logger = Logger.new(nil)
  config.hosts.clear
  config.action_dispatch.cookies_serializer = :json
  opts = { key: "_myapp_session" }
  opts[:expire_after] = EXPIRE if EXPIRE
  config.session_store :cookie_store, **opts
end

class SessController < ActionController::Base
  def login
    session[:user_id] = 42
    session[:username] = "alice"
    render json: { ok: true }
  end

  def whoami
    render json: session.to_hash
  end
end

App.initialize!
App.routes.draw do
  get "/login" => "sess#login"
  get "/whoami" => "sess#whoami"
end

def req(path, cookie = nil)
  env = Rack::MockRequest.env_for(path, "HTTP_HOST" => "example.org")
  env["HTTP_COOKIE"] = cookie if cookie
  status, headers, body = App.call(env)
  text = +""
  body.each { |c| text << c }
  [headers["Set-Cookie"], JSON.parse(text)]
end

versions = %w[ruby-railties ruby-actionpack ruby-activesupport].map do |p|
  "#{p} #{`dpkg-query -W -f='${Version}' #{p}`}"
end.join(", ") + ", #{RUBY_DESCRIPTION.split(" ")[0, 2].join(" ")}"

key = App.key_generator.generate_key("authenticated encrypted cookie", 32)
params = {
  secret_key_base: SECRET, kdf: "PBKDF2-HMAC-SHA1", iterations: 1000,
  salt: "authenticated encrypted cookie", key_length: 32, derived_key_hex: key.unpack1("H*"),
  cipher: "aes-256-gcm", serializer: "json", purpose: "cookie._myapp_session",
  expire_after: EXPIRE
}

set_cookie = nil
travel_to(Time.at(T0).utc) { set_cookie, = req("/login") }
wire = set_cookie.split(";").first.split("=", 2).last
value = Rack::Utils.unescape(wire)
_, seen = travel_to(Time.at(VERIFY_NOW).utc) { req("/whoami", "_myapp_session=#{wire}") }
raise "not accepted: #{seen}" unless seen["user_id"] == 42

vectors = []
name = EXPIRE ? "rails-expire-after" : "rails-plain"
vectors << {
  format: "rails", name: name, cookie_name: "_myapp_session", secret_or_key_params: params,
  token: value, token_on_wire: wire, expected_payload: seen, expect: "valid",
  timestamp: T0, verify_now: VERIFY_NOW, set_cookie_header: set_cookie, verified_with: versions,
  notes: EXPIRE ? "session_store expire_after: #{EXPIRE} s, so the envelope carries exp = T0 + #{EXPIRE} s (ISO-8601 ms, UTC) and the cookie an Expires attribute." :
                  "No expire_after: envelope exp is null; only the purpose is bound."
}

if EXPIRE
  late = T0 + EXPIRE + 60
  _, seen2 = travel_to(Time.at(late).utc) { req("/whoami", "_myapp_session=#{wire}") }
  raise "expired accepted" if seen2.key?("user_id")
  vectors << {
    format: "rails", name: "rails-expired", cookie_name: "_myapp_session", secret_or_key_params: params,
    token: value, token_on_wire: wire, expected_payload: nil, expect: "expired",
    timestamp: T0, verify_now: late, verified_with: versions,
    notes: "Same cookie as rails-expire-after, presented at T0 + #{EXPIRE + 60} s: decrypts, but the _rails.exp check fails and Rails starts a fresh session."
  }
else
  ct, iv, tag = value.split("--")
  raw = ct.unpack1("m0").bytes
  raw[3] ^= 1
  bad = [raw.pack("C*")].pack("m0") + "--" + iv + "--" + tag
  _, seen3 = travel_to(Time.at(VERIFY_NOW).utc) { req("/whoami", "_myapp_session=#{Rack::Utils.escape(bad)}") }
  raise "tampered accepted" if seen3.key?("user_id")
  vectors << {
    format: "rails", name: "rails-tampered", cookie_name: "_myapp_session", secret_or_key_params: params,
    token: bad, token_on_wire: Rack::Utils.escape(bad), expected_payload: nil, expect: "bad_signature",
    timestamp: T0, verify_now: VERIFY_NOW, verified_with: versions,
    notes: "One ciphertext bit flipped: the GCM tag check fails (InvalidMessage); Rails starts a fresh session."
  }
  # purpose binding: the same encryptor output under another cookie name is rejected
  # same bytes under two cookie names, read through Rails' own encrypted cookie jar
  env = Rack::MockRequest.env_for("/", "HTTP_HOST" => "example.org",
                                  "HTTP_COOKIE" => "other_cookie=#{wire}; _myapp_session=#{wire}")
  env.merge!(App.env_config)
  jar = ActionDispatch::Request.new(env).cookie_jar
  raise "purpose not enforced" unless jar.encrypted["other_cookie"].nil?
  raise "jar cannot read own cookie" if jar.encrypted["_myapp_session"].nil?
  vectors << {
    format: "rails", name: "rails-wrong-purpose", cookie_name: "other_cookie", secret_or_key_params: params.merge(purpose: "cookie.other_cookie"),
    token: value, token_on_wire: wire, expected_payload: nil, expect: "bad_signature",
    timestamp: T0, verify_now: VERIFY_NOW, verified_with: versions,
    notes: "The rails-plain cookie presented as cookie 'other_cookie': decrypts fine but _rails.pur is 'cookie._myapp_session', so cookies.encrypted['other_cookie'] is nil."
  }
end

puts JSON.generate(vectors)
