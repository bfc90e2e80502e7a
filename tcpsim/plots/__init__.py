"""Pictures of traces for the course (matplotlib, no pyplot state).

    from tcpsim import plots
    plots.ladder(trace)                     # sequence diagram, time running down
    plots.state_graph(trace, host="client") # RFC 9293 state machine, the path taken lit
    plots.time_sequence(trace, host="client")
    plots.buffers(trace, t=0.3)             # send/receive windows at time t
    plots.flow(trace)                       # written, sent, acked; window and unread, over time
    plots.header(trace.segments.iloc[0], trace=trace)
    plots.schedule({"linux": trace1, "rfc9293": trace2}, flags="S")  # when each SYN left
    plots.ladder(trace, conn=3)             # one connection of several
    plots.connections(trace)                # every connection: its states over time
    plots.rto(trace, host="client")         # RTT samples, SRTT, RTO and the re-sends (06)
    plots.loss_sweep(table)                 # transfer time against loss rate (06)

Each function takes a ``tcpsim.Trace`` (or a trace document) and an optional ``ax=``; it
returns a ``matplotlib.figure.Figure`` (or the given Axes). See docs/plots.md.
"""
from .ladder import ladder, ladder_svg, segment_label
from .states import (current_states, highlighted_edges, state_graph, state_graph_svg,
                     state_machine_graph)
from .timeseq import time_sequence, time_sequence_data
from .buffers import buffer_numbers, buffers, buffers_svg
from .flow import flow, flow_data
from .header import header, header_bytes, header_fields
from .schedule import schedule, schedule_data
from .connections import connection_ids, connection_spans, connection_trace, connections
from .exhaustion import exhaustion_sweep
from .isn import flood_queue, isn_generators, stale_acceptance
from .style import HOST_COLOURS, OKABE_ITO, flag_label, host_colours
from .loss import loss_sweep, rto

__all__ = ["ladder", "ladder_svg", "segment_label", "state_graph", "state_graph_svg",
           "state_machine_graph",
           "highlighted_edges", "current_states", "time_sequence", "time_sequence_data",
           "buffers", "buffers_svg", "buffer_numbers", "flow", "flow_data", "header", "header_bytes", "header_fields",
           "schedule", "schedule_data",
           "connections", "connection_ids", "connection_spans", "connection_trace",
           "exhaustion_sweep",
           "flag_label", "host_colours", "HOST_COLOURS", "OKABE_ITO",
           "isn_generators", "stale_acceptance", "flood_queue"]
__all__ += ["rto", "loss_sweep"]   # notebook 06
