# imei_registry: PGXS build.
#
#   make                 build the library and the install script
#   make install         install into the PostgreSQL that pg_config names
#   make installcheck    pg_regress + isolation tests against a running server
#   scripts/test         everything, on a throwaway cluster (see README)

EXTENSION   = imei_registry
# The install script of the first version, built from its parts.  Its name
# stays when default_version moves on: later versions install it and the
# hand-written upgrade scripts after it (test/shell/upgrade.sh checks them).
BASE_VERSION = 1.0
MODULE_big  = $(EXTENSION)
OBJS        = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))
PG_CPPFLAGS = -Isrc
# PGXS tracks no header dependencies (Debian's server is built without
# --enable-depend): every object is rebuilt when any of the headers changes,
# or a changed enum (src/relcheck.h) leaves stale objects that disagree.
LOCAL_HEADERS = $(wildcard src/*.h)
# OpenSSL's libcrypto verifies signed applications (src/signature.c)
SHLIB_LINK  = -lcrypto

# The base install script is built from sql/$(BASE_VERSION)/; every other
# sql/imei_registry--*.sql (upgrade scripts A--B) is written by hand and
# installed as it is.
INT8_TYPES  = imei imeisv iin bin
SQL_GEN     = $(foreach t,$(INT8_TYPES),sql/$(BASE_VERSION)/010_$(t)_type.sql \
                                        sql/$(BASE_VERSION)/020_$(t)_ops.sql)
# The data tables' DDL (sql/$(BASE_VERSION)/registry/) is the body of
# create_registry(), last in the script (sql/create_registry.sql.in).
REGISTRY_PARTS = $(sort $(wildcard sql/$(BASE_VERSION)/registry/*.sql))
REGISTRY_GEN   = sql/$(BASE_VERSION)/999_create_registry.sql
SQL_GEN     += $(REGISTRY_GEN)
SQL_PARTS   = $(sort $(wildcard sql/$(BASE_VERSION)/*.sql) $(SQL_GEN))
DATA_built  = sql/$(EXTENSION)--$(BASE_VERSION).sql
DATA        = $(filter-out $(DATA_built),$(wildcard sql/$(EXTENSION)--*.sql))
EXTRA_CLEAN = $(SQL_GEN) test/fuzz/imei_fuzz results/ output_iso/ regression.* tmp_check/

# pg_regress expects test/expected; it is a link to the top-level expected/.
# layout first: it makes the data tables (create_registry()) for the rest
REGRESS      = layout $(filter-out layout,$(basename $(notdir $(sort $(wildcard test/sql/*.sql)))))
REGRESS_OPTS = --inputdir=test --load-extension=$(EXTENSION)
# layout_concurrent first: two concurrent create_registry() calls
ISOLATION      = layout_concurrent $(filter-out layout_concurrent,$(basename $(notdir $(sort $(wildcard test/specs/*.spec)))))
ISOLATION_OPTS = --inputdir=test --load-extension=$(EXTENSION)

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

$(OBJS): $(LOCAL_HEADERS)

# Type category and preference of each type (CREATE TYPE ... CATEGORY,
# PREFERRED).  imei and imeisv share the category 'i', of this extension's
# own lower-case letter, with imei preferred: an untyped literal passed to a
# function overloaded on both, report_connection('3584...', 'beeline'),
# resolves to imei (a 16-digit literal then gets imei's hint to use imeisv).
# iin and bin are plain user-defined types ('U').
TYPE_CATEGORY_imei   = i true
TYPE_CATEGORY_imeisv = i false
TYPE_CATEGORY_iin    = U false
TYPE_CATEGORY_bin    = U false

sql/$(BASE_VERSION)/010_%_type.sql: sql/int8_type.sql.in Makefile
	sed -e 's/@T@/$*/g' \
	    -e 's/@CATEGORY@/$(word 1,$(TYPE_CATEGORY_$*))/' \
	    -e 's/@PREFERRED@/$(word 2,$(TYPE_CATEGORY_$*))/' $< > $@

sql/$(BASE_VERSION)/020_%_ops.sql: sql/int8_ops.sql.in
	sed 's/@T@/$*/g' $< > $@

$(REGISTRY_GEN): sql/create_registry.sql.in $(REGISTRY_PARTS)
	! grep -l 'registry_ddl' $(REGISTRY_PARTS)
	{ sed '/^@REGISTRY_DDL@$$/,$$d' $<; cat $(REGISTRY_PARTS); \
	  sed '1,/^@REGISTRY_DDL@$$/d' $<; } > $@

$(DATA_built): $(SQL_PARTS)
	cat $^ > $@

# libFuzzer target: the parser against a reference implementation.  New
# corpus entries go to a temporary directory, never into the repo.
FUZZ_SECONDS ?= 30
test/fuzz/imei_fuzz: test/fuzz/imei_fuzz.c src/imei_parse.c src/imei_parse.h
	clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc -o $@ test/fuzz/imei_fuzz.c src/imei_parse.c

fuzz: test/fuzz/imei_fuzz
	corpus=$$(mktemp -d) && trap 'rm -rf "$$corpus"' EXIT && \
	if ./test/fuzz/imei_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=64 \
		-artifact_prefix=/tmp/imei_fuzz- "$$corpus" test/fuzz/seeds \
		>"$$corpus.log" 2>&1; \
	then tail -n 1 "$$corpus.log"; rm -f "$$corpus.log"; \
	else cat "$$corpus.log"; rm -f "$$corpus.log"; exit 1; fi

.PHONY: fuzz
