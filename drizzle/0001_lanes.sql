CREATE TABLE "lakehouse"."lanes" (
	"stream" text NOT NULL,
	"lane" integer NOT NULL,
	"attempted_upto" bigint,
	"attempts" integer DEFAULT 0 NOT NULL,
	"failed_at" timestamp with time zone,
	"next_retry_at" timestamp with time zone,
	"delivered_count" bigint DEFAULT 0 NOT NULL,
	"resent_count" bigint DEFAULT 0 NOT NULL,
	"batch_count" bigint DEFAULT 0 NOT NULL,
	"last_delivered_at" timestamp with time zone,
	"last_error" text,
	"last_error_at" timestamp with time zone,
	CONSTRAINT "lanes_stream_lane_pk" PRIMARY KEY("stream","lane")
);
--> statement-breakpoint
CREATE TABLE "lakehouse"."settings" (
	"id" smallint PRIMARY KEY DEFAULT 1 NOT NULL,
	"lane_count" integer DEFAULT 64 NOT NULL,
	CONSTRAINT "settings_one_row" CHECK ("id" = 1),
	CONSTRAINT "settings_lane_count_range" CHECK ("lane_count" BETWEEN 1 AND 32767)
);
--> statement-breakpoint
INSERT INTO "lakehouse"."settings" ("id", "lane_count") VALUES (1, 64);
--> statement-breakpoint
-- The lane of a partition key: a stable hash (md5, identical in every PostgreSQL version and
-- in Node's crypto, see src/outbox/lanes.ts) modulo the lane count.
CREATE FUNCTION "lakehouse".lane_of(key text, lanes integer) RETURNS integer
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT (('x' || substr(md5(key), 1, 8))::bit(32)::bigint % lanes)::integer $$;
--> statement-breakpoint
COMMENT ON SEQUENCE "lakehouse"."events_position_seq" IS 'Must keep CACHE 1: a cache hands each session its own block of positions, so a later insert could get a lower position than a committed one and be delivered out of order.';
--> statement-breakpoint
DROP INDEX "lakehouse"."events_created_at_idx";--> statement-breakpoint
CREATE INDEX "events_created_at_brin" ON "lakehouse"."events" USING brin ("created_at");--> statement-breakpoint
ALTER TABLE "lakehouse"."pending" ADD COLUMN "lane" smallint;--> statement-breakpoint
UPDATE "lakehouse"."pending" SET "lane" = "lakehouse".lane_of("partition_key", 64);--> statement-breakpoint
ALTER TABLE "lakehouse"."pending" ALTER COLUMN "lane" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "lakehouse"."pending" DROP CONSTRAINT "pending_stream_partition_key_position_pk";--> statement-breakpoint
ALTER TABLE "lakehouse"."pending" ADD CONSTRAINT "pending_stream_lane_position_pk" PRIMARY KEY("stream","lane","position");--> statement-breakpoint
-- Upgrade: per-partition counters and retry state move to the partitions' lanes. A failed
-- partition makes its lane failed (retried slowly, or at once by replay); a blocked
-- partition stays blocked in `partitions` and its lane flows past it.
INSERT INTO "lakehouse"."lanes" ("stream", "lane", "attempted_upto", "failed_at", "next_retry_at", "delivered_count",
  "resent_count", "batch_count", "last_delivered_at", "last_error", "last_error_at")
SELECT "stream", "lakehouse".lane_of("partition_key", 64), max("attempted_upto"), min("failed_at"), max("next_retry_at"),
       sum("delivered_count"), sum("resent_count"), sum("batch_count"), max("last_delivered_at"),
       (array_agg("last_error" ORDER BY "last_error_at" DESC NULLS LAST) FILTER (WHERE "blocked_position" IS NULL))[1],
       max("last_error_at") FILTER (WHERE "blocked_position" IS NULL)
  FROM "lakehouse"."partitions"
 GROUP BY 1, 2;--> statement-breakpoint
UPDATE "lakehouse"."partitions" SET "failed_at" = NULL, "next_retry_at" = NULL, "attempted_upto" = NULL,
  "delivered_count" = 0, "resent_count" = 0, "batch_count" = 0;--> statement-breakpoint
CREATE INDEX "partitions_blocked_idx" ON "lakehouse"."partitions" USING btree ("stream","partition_key") WHERE blocked_position IS NOT NULL;
