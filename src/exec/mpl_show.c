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

int mpl_show_add(json_t *files, json_t *vars)
{
	json_t *path = json_object_get(vars, "PYTHONPATH");
	int r = json_object_set_new(files, MPL_SHOW_DIR "/" MPL_SHOW_MODULE ".py",
				    json_string(module_source));

	if (r == 0 && json_object_get(vars, "MPLBACKEND") == NULL)
		r = json_object_set_new(vars, "MPLBACKEND",
					json_string("module://" MPL_SHOW_MODULE));
	/* After the run's own path: its modules win over ours. */
	if (r == 0)
		r = json_object_set_new(
		    vars, "PYTHONPATH",
		    json_is_string(path) && json_string_length(path) > 0
			? json_sprintf("%s:%s", json_string_value(path), MPL_SHOW_DIR)
			: json_string(MPL_SHOW_DIR));
	return r < 0 ? -ENOMEM : 0;
}
