/*
 * mime-decode.c - see mime-decode.h.
 */
#include "mime-decode.h"

#include <stdlib.h>
#include <string.h>

int
mime_decode(const struct mailmime_single_fields *sf, const char *data, size_t n,
            size_t room, char **out, size_t *outlen)
{
	char *copy = NULL;
	size_t idx = 0;
	int enc, rc;

	enc = sf->fld_encoding ? sf->fld_encoding->enc_type
	                       : MAILMIME_MECHANISM_8BIT;
	if (enc == MAILMIME_MECHANISM_ERROR || enc == MAILMIME_MECHANISM_TOKEN)
		enc = MAILMIME_MECHANISM_8BIT;
	if (room < MIME_DECODE_PAD) {
		if ((copy = calloc(1, n + MIME_DECODE_PAD)) == NULL)
			return -2;
		if (n > 0)
			memcpy(copy, data, n);
		data = copy;
	}
	*out = NULL;
	*outlen = 0;
	rc = mailmime_part_parse(data, n, &idx, enc, out, outlen);
	free(copy);
	return rc == MAILIMF_NO_ERROR ? 0 : -1;
}
