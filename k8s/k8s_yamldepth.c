/* k8s_yamldepth.c - see k8s_yamldepth.h. */
#include "k8s_yamldepth.h"

int k8s_yaml_too_deep(yaml_parser_t *p, int max, size_t *line, size_t *col)
{
	int depth = 0;
	for (;;) {
		yaml_event_t e;
		if (!yaml_parser_parse(p, &e))
			return 0;
		yaml_event_type_t t = e.type;
		if (t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT) {
			if (++depth > max) {
				*line = e.start_mark.line + 1;
				*col = e.start_mark.column + 1;
				yaml_event_delete(&e);
				return 1;
			}
		} else if (t == YAML_SEQUENCE_END_EVENT || t == YAML_MAPPING_END_EVENT) {
			depth--;
		}
		yaml_event_delete(&e);
		if (t == YAML_STREAM_END_EVENT)
			return 0;
	}
}
