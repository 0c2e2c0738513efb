CREATE TABLE "lakehouse"."delivered_rollup" (
	"stream" text NOT NULL,
	"tenant_id" text NOT NULL,
	"day" date NOT NULL,
	"delivered" bigint DEFAULT 0 NOT NULL,
	"expected" bigint DEFAULT 0 NOT NULL,
	"sums" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"last_delivered_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "delivered_rollup_stream_tenant_id_day_pk" PRIMARY KEY("stream","tenant_id","day")
);
