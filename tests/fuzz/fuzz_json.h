/*
 * fuzz_json.h: JSON values compared as the protocol keeps them:
 * proto_encode rounds every real to microseconds (proto_dump), so a real
 * comes back within that, anything else exactly.
 */
#ifndef TEND_FUZZ_JSON_H
#define TEND_FUZZ_JSON_H

#include <float.h>
#include <math.h>

#include <jansson.h>

static inline int
fuzz_json_close(const json_t *a, const json_t *b)
{
	const char	*key;
	json_t		*v;
	double		 x, y;
	size_t		 i;

	if (a == NULL || b == NULL || json_typeof(a) != json_typeof(b))
		return 0;
	switch (json_typeof(a)) {
	case JSON_REAL:
		/* Half a microsecond of rounding, and the error of reading
		   the rounded text back (a few ulps of a large value). */
		x = json_real_value(a);
		y = json_real_value(b);
		return fabs(x - y) <= 0.5e-6 + 4 * DBL_EPSILON * fabs(x);
	case JSON_OBJECT:
		if (json_object_size(a) != json_object_size(b))
			return 0;
		json_object_foreach((json_t *)a, key, v) {
			if (!fuzz_json_close(v, json_object_get(b, key)))
				return 0;
		}
		return 1;
	case JSON_ARRAY:
		if (json_array_size(a) != json_array_size(b))
			return 0;
		for (i = 0; i < json_array_size(a); i++) {
			if (!fuzz_json_close(json_array_get(a, i),
			    json_array_get(b, i)))
				return 0;
		}
		return 1;
	default:
		return json_equal(a, b);
	}
}

#endif
