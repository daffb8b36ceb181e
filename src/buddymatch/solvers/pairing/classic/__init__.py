"""The previous peer pairing engine, kept for large pools (see ``pairing/solve.py``).

rustworkx's blossom on a candidate graph, certified by an LP (OR-Tools GLOP) over
every allowed pair where the gap closes, else ``feasible`` with a proven bound.
The primal-dual engine of ``pairing/blossom.py`` proves optimality on every pool
it finishes, but on large pools of many alike people (the sampler's 5,000-person
peer pool: 141 s against 8 s here; 20,000 did not finish in 10 minutes) its
searches nest blossoms thousands deep.  Until that is fixed, pools above
:data:`buddymatch.solvers.pairing.solve.BLOSSOM_MAX_PEOPLE` come here.  Same
entry point and outcome as :func:`buddymatch.solvers.pairing.solve.solve_pairing`.
"""

from buddymatch.solvers.pairing.classic.solve import solve_pairing

__all__ = ["solve_pairing"]
