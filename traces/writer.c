/* writer.c - placeholder until the trace codec lands. */
