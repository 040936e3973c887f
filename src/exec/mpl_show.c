#include "mpl_show.h"

#include <errno.h>

static const char module_source[] =
    "\"\"\"python-mcp: plt.show() saves each open figure into the working\n"
    "directory as figure-<n>.png (the first free n), which the run's result\n"
    "lists and shows as an image.\"\"\"\n"
    "import os\n"
    "import sys\n"
    "\n"
    "from matplotlib.backend_bases import FigureManagerBase\n"
    "from matplotlib.backends.backend_agg import FigureCanvasAgg\n"
    "\n"
    "FigureCanvas = FigureCanvasAgg\n"
    "FigureManager = FigureManagerBase\n"
    "\n"
    "\n"
    "def _create(n):\n"
    "    while True:\n"
    "        name = f\"figure-{n}.png\"\n"
    "        try:\n"
    "            return name, os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644), n\n"
    "        except FileExistsError:\n"
    "            n += 1\n"
    "\n"
    "\n"
    "def show(*args, **kwargs):\n"
    "    import matplotlib.pyplot as plt\n"
    "    n = 1\n"
    "    for num in plt.get_fignums():\n"
    "        try:\n"
    "            name, fd, n = _create(n)\n"
    "            with os.fdopen(fd, \"wb\") as f:\n"
    "                plt.figure(num).savefig(f, format=\"png\")\n"
    "        except OSError as e:\n"
    "            print(f\"python-mcp: figure {num} not saved: {e}\", file=sys.stderr)\n"
    "    plt.close(\"all\")\n";

/* Chooses the backend inside the interpreters that find it, never
 * through the environment: a child started with -I, -E or a PYTHONPATH of
 * its own neither finds this file nor is told of a backend it could not
 * import, and keeps matplotlib's default.  Debian's own sitecustomize
 * (the one this one shadows) still runs. */
static const char sitecustomize_source[] =
    "\"\"\"python-mcp: matplotlib's plt.show() saves figures (python_mcp_show),\n"
    "unless MPLBACKEND says otherwise.\"\"\"\n"
    "import os\n"
    "import sys\n"
    "\n"
    "\n"
    "def _python_mcp_hook():\n"
    "    import importlib.abc\n"
    "    import importlib.machinery\n"
    "\n"
    "    class Finder(importlib.abc.MetaPathFinder):\n"
    "        def find_spec(self, name, path=None, target=None):\n"
    "            if name != \"matplotlib\":\n"
    "                return None\n"
    "            sys.meta_path.remove(self)\n"
    "            spec = importlib.machinery.PathFinder.find_spec(name, path)\n"
    "            if spec is None or spec.loader is None:\n"
    "                return spec\n"
    "            run = spec.loader.exec_module\n"
    "\n"
    "            def exec_module(module):\n"
    "                run(module)\n"
    "                if \"MPLBACKEND\" not in os.environ:\n"
    "                    module.rcParams[\"backend\"] = \"module://python_mcp_show\"\n"
    "\n"
    "            spec.loader.exec_module = exec_module\n"
    "            return spec\n"
    "\n"
    "    sys.meta_path.insert(0, Finder())\n"
    "\n"
    "\n"
    "def _python_mcp_chain():\n"
    "    import importlib.machinery\n"
    "    import importlib.util\n"
    "    here = os.path.dirname(os.path.abspath(__file__))\n"
    "    rest = [p for p in sys.path if os.path.abspath(p or \".\") != here]\n"
    "    spec = importlib.machinery.PathFinder.find_spec(\"sitecustomize\", rest)\n"
    "    if spec is not None and spec.loader is not None:\n"
    "        spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
    "\n"
    "\n"
    "if \"MPLBACKEND\" not in os.environ:\n"
    "    _python_mcp_hook()\n"
    "try:\n"
    "    _python_mcp_chain()\n"
    "except Exception:\n"
    "    pass\n";

int mpl_show_add(json_t *files, json_t *vars)
{
	json_t *path = json_object_get(vars, "PYTHONPATH");
	int r = json_object_set_new(files, MPL_SHOW_DIR "/" MPL_SHOW_MODULE ".py",
				    json_string(module_source));

	if (r == 0)
		r = json_object_set_new(files, MPL_SHOW_DIR "/sitecustomize.py",
					json_string(sitecustomize_source));
	/* After the run's own path: its modules win over ours. */
	if (r == 0)
		r = json_object_set_new(
		    vars, "PYTHONPATH",
		    json_is_string(path) && json_string_length(path) > 0
			? json_sprintf("%s:%s", json_string_value(path), MPL_SHOW_DIR)
			: json_string(MPL_SHOW_DIR));
	return r < 0 ? -ENOMEM : 0;
}
