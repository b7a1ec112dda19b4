// A real OpenID provider for Détente's SSO tests: panva's certified `oidc-provider`, configured
// here and nowhere else. Started by the `oidc_provider` pytest fixture (web/tests/oidc_fixtures.py)
// on 127.0.0.1; everything it needs comes from the environment:
//   OIDC_PORT, OIDC_ISSUER        where it listens and the issuer it names in every token
//   OIDC_CLIENT_SECRET            the secret of its one client, `detente`
//   OIDC_REDIRECT_URIS            space-separated redirect URIs of that client
//   OIDC_JWKS_FILE                its private signing keys (JWKS), written by the fixture, so a
//                                 test can also sign a token as the provider would
//   OIDC_ACCOUNTS_FILE            {"<login>": {"email", "name", "groups": [...]}}, read on every
//                                 look-up so a test can move someone between groups; an account
//                                 with "groups_source": URL gets Entra ID's group overage instead
//                                 of its groups (distributed claims naming that URL)
//   OIDC_POST_LOGOUT_REDIRECT_URIS space-separated; where single logout may send the browser back
// The login page is the package's development interaction (any password; the login names the
// account); consent is asked once per grant. It prints "listening <issuer>" when ready.
// On Node 20 (Debian's) the package prints "Unsupported runtime. Use Node.js v22.x LTS": a
// warning only (it has no engines limit); the suite passes on 20, and 22 works the same.
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const accounts = () => JSON.parse(readFileSync(env('OIDC_ACCOUNTS_FILE'), 'utf8'));

const provider = new Provider(env('OIDC_ISSUER'), {
  clients: [{
    client_id: 'detente',
    client_secret: env('OIDC_CLIENT_SECRET'),
    redirect_uris: env('OIDC_REDIRECT_URIS').split(' '),
    post_logout_redirect_uris: (process.env.OIDC_POST_LOGOUT_REDIRECT_URIS || '').split(' ').filter(Boolean),
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: JSON.parse(readFileSync(env('OIDC_JWKS_FILE'), 'utf8')),
  pkce: { required: () => true }, // Détente must send a S256 code challenge, or no code
  scopes: ['openid', 'email', 'profile', 'groups'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
    groups: ['groups'],
  },
  async findAccount(ctx, id) {
    const account = accounts()[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        const base = { sub: id, email: account.email, email_verified: true, name: account.name };
        if (account.groups_source) { // too many groups for a token: where to read them instead
          return {
            ...base,
            _claim_names: { groups: 'src1' },
            _claim_sources: { src1: { endpoint: account.groups_source } },
          };
        }
        return { ...base, groups: account.groups };
      },
    };
  },
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ['detente-test-provider-cookie-key'] },
});

const server = provider.listen(Number(env('OIDC_PORT')), '127.0.0.1', () => {
  process.stdout.write(`listening ${env('OIDC_ISSUER')}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
