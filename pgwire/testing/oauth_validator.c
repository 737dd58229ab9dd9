/*
 * oauth_validator.c: a toy OAuth validator module for PostgreSQL 18, for tests.
 *
 * It checks no signature and asks no issuer. A bearer token of the form
 * "good.<rolename>" is authorized, with authn_id <rolename>, when
 * <rolename> is the role logging in; every other token is refused (and
 * gets no authn_id). The separator is a dot, not a colon: the server only
 * passes on tokens that are RFC 6750 b64token (letters, digits and
 * "-._~+/", then "=" padding) and refuses "good:<rolename>" itself, as a
 * malformed token, before any validator sees it. Role names outside that
 * alphabet therefore cannot be expressed.
 *
 * Built by pgwire.testing.oauth.build_oauth_validator; never load it into a
 * server that anyone else can reach.
 */
#include "postgres.h"

#include <string.h>

#include "fmgr.h"
#include "libpq/oauth.h"

PG_MODULE_MAGIC;

#define GOOD_PREFIX "good."

static bool pgwire_validate(const ValidatorModuleState *state,
							const char *token, const char *role,
							ValidatorModuleResult *result);

static const OAuthValidatorCallbacks pgwire_callbacks = {
	.magic = PG_OAUTH_VALIDATOR_MAGIC,
	.startup_cb = NULL,
	.shutdown_cb = NULL,
	.validate_cb = pgwire_validate,
};

const OAuthValidatorCallbacks *
_PG_oauth_validator_module_init(void)
{
	return &pgwire_callbacks;
}

/*
 * Returning true means "the token was examined" (false would be an internal
 * error); result->authorized says whether it lets the client in.
 */
static bool
pgwire_validate(const ValidatorModuleState *state,
				const char *token, const char *role,
				ValidatorModuleResult *result)
{
	size_t		prefix_len = strlen(GOOD_PREFIX);
	const char *claimed;

	(void) state;
	result->authorized = false;
	result->authn_id = NULL;

	if (token == NULL || role == NULL)
		return true;
	if (strncmp(token, GOOD_PREFIX, prefix_len) != 0)
		return true;

	claimed = token + prefix_len;
	if (claimed[0] == '\0' || strcmp(claimed, role) != 0)
		return true;

	result->authn_id = pstrdup(claimed);
	result->authorized = true;
	return true;
}
