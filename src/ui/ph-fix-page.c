/* ph-fix-page.c: what the wizard's fix pages share
 *
 * Every road page holds the check's diagnosis and the application's PhActions, asks for the
 * confirmation probe with "check-again" and sends the user to another road with "show-fix". The
 * pages themselves only say what the diagnosis means for their road (diagnosis_changed) and
 * their title.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "ph-fix-page.h"

typedef struct
{
  PhActions *actions;
  PhDiagnosis *diagnosis;
  GCancellable *cancellable;
} PhFixPagePrivate;

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE (PhFixPage, ph_fix_page, ADW_TYPE_BIN)

enum
{
  PROP_0,
  PROP_ACTIONS,
  PROP_DIAGNOSIS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum
{
  SIGNAL_CHECK_AGAIN,
  SIGNAL_SHOW_FIX,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
ph_fix_page_dispose (GObject *object)
{
  PhFixPagePrivate *priv = ph_fix_page_get_instance_private (PH_FIX_PAGE (object));

  g_cancellable_cancel (priv->cancellable);
  g_clear_object (&priv->actions);
  g_clear_object (&priv->diagnosis);
  G_OBJECT_CLASS (ph_fix_page_parent_class)->dispose (object);
}

static void
ph_fix_page_finalize (GObject *object)
{
  PhFixPagePrivate *priv = ph_fix_page_get_instance_private (PH_FIX_PAGE (object));

  g_clear_object (&priv->cancellable);
  G_OBJECT_CLASS (ph_fix_page_parent_class)->finalize (object);
}

static void
ph_fix_page_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  PhFixPagePrivate *priv = ph_fix_page_get_instance_private (PH_FIX_PAGE (object));

  switch (prop_id)
    {
      case PROP_ACTIONS:
        g_value_set_object (value, priv->actions);
        break;
      case PROP_DIAGNOSIS:
        g_value_set_object (value, priv->diagnosis);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ph_fix_page_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  PhFixPage *self = PH_FIX_PAGE (object);

  switch (prop_id)
    {
      case PROP_ACTIONS:
        ph_fix_page_set_actions (self, g_value_get_object (value));
        break;
      case PROP_DIAGNOSIS:
        ph_fix_page_set_diagnosis (self, g_value_get_object (value));
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ph_fix_page_class_init (PhFixPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = ph_fix_page_dispose;
  object_class->finalize = ph_fix_page_finalize;
  object_class->get_property = ph_fix_page_get_property;
  object_class->set_property = ph_fix_page_set_property;

  /* Not every page needs it (on "forward" the user does the work), but every fix page takes it. */
  properties[PROP_ACTIONS]
      = g_param_spec_object ("actions", NULL, NULL, PH_TYPE_ACTIONS,
                             G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_DIAGNOSIS]
      = g_param_spec_object ("diagnosis", NULL, NULL, PH_TYPE_DIAGNOSIS,
                             G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* The user wants the confirmation probe: the window runs it and shows the confirm page. */
  signals[SIGNAL_CHECK_AGAIN]
      = g_signal_new ("check-again", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                      NULL, G_TYPE_NONE, 0);
  /* Another road; without a handler, the window's win.show-fix. */
  signals[SIGNAL_SHOW_FIX]
      = g_signal_new ("show-fix", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                      G_TYPE_NONE, 1, G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
ph_fix_page_init (PhFixPage *self)
{
  PhFixPagePrivate *priv = ph_fix_page_get_instance_private (self);

  priv->cancellable = g_cancellable_new ();
}

void
ph_fix_page_set_diagnosis (PhFixPage *self, PhDiagnosis *diagnosis)
{
  PhFixPagePrivate *priv;
  gboolean replaced;

  g_return_if_fail (PH_IS_FIX_PAGE (self));
  g_return_if_fail (diagnosis == NULL || PH_IS_DIAGNOSIS (diagnosis));

  priv = ph_fix_page_get_instance_private (self);
  replaced = g_set_object (&priv->diagnosis, diagnosis);
  /* The same diagnosis again still refreshes: the page may have said something since. */
  if (PH_FIX_PAGE_GET_CLASS (self)->diagnosis_changed)
    PH_FIX_PAGE_GET_CLASS (self)->diagnosis_changed (self, replaced);
  if (replaced)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DIAGNOSIS]);
}

PhDiagnosis *
ph_fix_page_get_diagnosis (PhFixPage *self)
{
  PhFixPagePrivate *priv;

  g_return_val_if_fail (PH_IS_FIX_PAGE (self), NULL);
  priv = ph_fix_page_get_instance_private (self);
  return priv->diagnosis;
}

void
ph_fix_page_set_actions (PhFixPage *self, PhActions *actions)
{
  PhFixPagePrivate *priv;

  g_return_if_fail (PH_IS_FIX_PAGE (self));
  g_return_if_fail (actions == NULL || PH_IS_ACTIONS (actions));

  priv = ph_fix_page_get_instance_private (self);
  if (g_set_object (&priv->actions, actions))
    {
      if (PH_FIX_PAGE_GET_CLASS (self)->actions_changed)
        PH_FIX_PAGE_GET_CLASS (self)->actions_changed (self);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ACTIONS]);
    }
}

PhActions *
ph_fix_page_get_actions (PhFixPage *self)
{
  PhFixPagePrivate *priv;

  g_return_val_if_fail (PH_IS_FIX_PAGE (self), NULL);
  priv = ph_fix_page_get_instance_private (self);
  return priv->actions;
}

const char *
ph_fix_page_get_title (PhFixPage *self)
{
  g_return_val_if_fail (PH_IS_FIX_PAGE (self), NULL);
  g_return_val_if_fail (PH_FIX_PAGE_GET_CLASS (self)->get_title != NULL, NULL);
  return PH_FIX_PAGE_GET_CLASS (self)->get_title (self);
}

GCancellable *
ph_fix_page_get_cancellable (PhFixPage *self)
{
  PhFixPagePrivate *priv;

  g_return_val_if_fail (PH_IS_FIX_PAGE (self), NULL);
  priv = ph_fix_page_get_instance_private (self);
  return priv->cancellable;
}

void
ph_fix_page_check_again (PhFixPage *self)
{
  g_return_if_fail (PH_IS_FIX_PAGE (self));
  g_signal_emit (self, signals[SIGNAL_CHECK_AGAIN], 0);
}

void
ph_fix_page_emit_show_fix (PhFixPage *self, const char *road)
{
  g_return_if_fail (PH_IS_FIX_PAGE (self));
  g_return_if_fail (road != NULL);

  /* Whoever holds the page may handle the signal; else the window's action does it. */
  if (g_signal_has_handler_pending (self, signals[SIGNAL_SHOW_FIX], 0, FALSE))
    g_signal_emit (self, signals[SIGNAL_SHOW_FIX], 0, road);
  else
    gtk_widget_activate_action (GTK_WIDGET (self), "win.show-fix", "s", road);
}
