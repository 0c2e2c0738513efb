CREATE SCHEMA "lakehouse";
--> statement-breakpoint
CREATE TABLE "lakehouse"."aggregate_streams" (
	"stream_type" text NOT NULL,
	"stream_id" text NOT NULL,
	"version" integer NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "aggregate_streams_stream_type_stream_id_pk" PRIMARY KEY("stream_type","stream_id")
);
--> statement-breakpoint
CREATE TABLE "lakehouse"."delivery_log" (
	"stream" text NOT NULL,
	"minute" timestamp with time zone NOT NULL,
	"events" bigint DEFAULT 0 NOT NULL,
	"bytes" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "delivery_log_stream_minute_pk" PRIMARY KEY("stream","minute")
);
--> statement-breakpoint
CREATE TABLE "lakehouse"."events" (
	"position" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "lakehouse"."events_position_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"event_id" uuid NOT NULL,
	"stream" text NOT NULL,
	"partition_key" text NOT NULL,
	"event_type" text NOT NULL,
	"tenant_id" text NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"schema_version" integer NOT NULL,
	"payload" jsonb NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"aggregate_type" text,
	"aggregate_id" text,
	"aggregate_version" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "lakehouse"."parked" (
	"position" bigint PRIMARY KEY NOT NULL,
	"stream" text NOT NULL,
	"partition_key" text NOT NULL,
	"reason" text NOT NULL,
	"error" text NOT NULL,
	"parked_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "lakehouse"."partitions" (
	"stream" text NOT NULL,
	"partition_key" text NOT NULL,
	"delivered_count" bigint DEFAULT 0 NOT NULL,
	"resent_count" bigint DEFAULT 0 NOT NULL,
	"batch_count" bigint DEFAULT 0 NOT NULL,
	"last_delivered_at" timestamp with time zone,
	"attempted_upto" bigint,
	"failed_at" timestamp with time zone,
	"next_retry_at" timestamp with time zone,
	"blocked_position" bigint,
	"last_error" text,
	"last_error_at" timestamp with time zone,
	CONSTRAINT "partitions_stream_partition_key_pk" PRIMARY KEY("stream","partition_key")
);
--> statement-breakpoint
CREATE TABLE "lakehouse"."pending" (
	"stream" text NOT NULL,
	"partition_key" text NOT NULL,
	"position" bigint NOT NULL,
	CONSTRAINT "pending_stream_partition_key_position_pk" PRIMARY KEY("stream","partition_key","position")
);
--> statement-breakpoint
CREATE UNIQUE INDEX "events_event_id_key" ON "lakehouse"."events" USING btree ("event_id");--> statement-breakpoint
CREATE UNIQUE INDEX "events_aggregate_version_key" ON "lakehouse"."events" USING btree ("aggregate_type","aggregate_id","aggregate_version") WHERE aggregate_id IS NOT NULL;--> statement-breakpoint
CREATE INDEX "events_created_at_idx" ON "lakehouse"."events" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "parked_stream_partition_idx" ON "lakehouse"."parked" USING btree ("stream","partition_key","position");