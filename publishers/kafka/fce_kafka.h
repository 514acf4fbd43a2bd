/*
 * The kafka backend (librdkafka): an idempotent producer with acks=all
 * whose delivery reports complete the driver's records. Its settings come
 * from the publisher's `kafka:` block, with FlyteAdmin's keys (brokers,
 * version, saslConfig, tlsConfig) and the project's own (properties, key,
 * partitioner).
 *
 * The functions below hold the parts of the backend that need no broker,
 * for the backend itself and its unit tests. None of them logs.
 */
#ifndef FCE_KAFKA_H
#define FCE_KAFKA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "fce_backend.h"
#include "kafka_settings.h"

/*
 * Builds the producer configuration of a publisher: brokers, idempotence,
 * acks, partitioner, version fallback, SASL, TLS, then the properties,
 * after fce_kafka_settings_check() (kafka_settings.h) found no problem.
 * Writes a message naming the key path (under origin) and the fix into err
 * and returns -EINVAL when a setting is invalid; never writes a secret.
 * Returns 0 with *conf set (the caller owns it), or a negative errno.
 */
int fce_kafka_conf_build(const struct fce_kafka_settings *settings,
                         const char *origin, const char *client_id,
                         rd_kafka_conf_t **conf, char *err, size_t err_size);

/*
 * Maps a delivery-report error to the driver's outcome: 0 is delivered;
 * errors about the message itself (too large, invalid, corrupt, denied by
 * topic authorization or policy) are rejected; all others are retried.
 */
enum fce_outcome fce_kafka_outcome(rd_kafka_resp_err_t err);

#endif
