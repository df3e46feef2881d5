/*
 * engine_config.c turns struct config into struct engine_settings, for batch and
 * live mode alike. It owns nothing after the call but the service-hours set it
 * returns.
 */
#include <stdio.h>
#include <string.h>

#include "chatlogd/engine_config.h"

struct service_hours_set *engine_config_settings(const struct config *cfg, int live,
                                                 struct engine_settings *out, char *err,
                                                 size_t errlen)
{
	struct service_hours_set *hours = service_hours_set_new(cfg->service_hours, err, errlen);
	int assessment = strcmp(cfg->assessment_counters, "on") == 0;

	if (hours == NULL)
		return NULL;
	for (size_t i = 0; i < cfg->shop_count; i++)
		if (service_hours_set_add(hours, cfg->shops[i].shop, cfg->shops[i].service_hours,
		                          err, errlen) == -1) {
			service_hours_set_free(hours);
			return NULL;
		}
	*out = (struct engine_settings){
	    .session_idle_ms = cfg->session_idle_ms,
	    .order_window_ms = cfg->order_window_ms,
	    .frt_target_ms = cfg->frt_target_ms,
	    .art_target_ms = cfg->art_target_ms,
	    .post_sale_window_ms = cfg->post_sale_window_ms,
	    .assessment_counters = assessment,
	    .slow_response_ms = cfg->slow_response_ms,
	    .returning_window_ms = cfg->returning_window_ms,
	    .service_hours = service_hours_set_always(hours) ? NULL : hours,
	    /* waiting alerts exist only while following live files */
	    .warn_at_ms = live ? cfg->warn_at_ms : 0,
	    /* a second waiting alert only when a robot escalates it */
	    .escalate_after_ms =
	        live && cfg->alert_escalate_webhook[0] != '\0' ? cfg->escalate_after_ms : 0,
	    /* ceilings for a daemon that runs for months; a batch run ends by itself */
	    .max_names = live ? (uint32_t)cfg->max_names : 0,
	    .max_buyers = live ? (uint32_t)cfg->max_buyers : 0,
	    .track_deadlines = live,
	};
	return hours;
}
